"""AppTest of the normalization & residuals lesson: every claim the page prints, checked against the runs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from analysis import modern as am
from core.modern import run_modern
from tests.apptest_util import open_page, url_notices
from tests.test_modern_figures import NUMBER, parse
from ui import presets

pytestmark = pytest.mark.slow  # the default view trains 15 networks (~10 s on the 2-core machine)


@pytest.fixture(scope="module")
def page():
    at = open_page("modern", timeout=300)
    assert not at.exception, at.exception
    return at


def _texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def _line(at, start: str) -> str:
    hits = [t for t in _texts(at) if t.startswith(start)]
    assert len(hits) == 1, (start, hits)
    return hits[0]


def test_page_renders_every_part_without_notices(page) -> None:
    assert url_notices(page) == []
    headers = [h.value for h in page.header]
    assert [h[:2] for h in headers] == ["1.", "2.", "3.", "4."]
    assert len(page.get("plotly_chart")) == 5


def test_normalization_keeps_the_signal_where_the_plain_network_loses_it(page) -> None:
    plain = _line(page, "**no normalization** at the start")
    last = parse(re.search(rf"and {NUMBER} in layer 20", plain).group(1))
    assert last < 1e-20  # the collapse
    for label in ("BatchNorm", "LayerNorm"):
        text = _line(page, f"**{label}** at the start")
        assert 0.9 < parse(re.search(rf"and {NUMBER} in layer 20", text).group(1)) < 1.1
    assert "with: BatchNorm, LayerNorm; not with: no normalization" in _line(page, "The signal reaches")
    assert "**BatchNorm**: trained" in _line(page, "**BatchNorm** at the start")
    assert "**no normalization**: did not learn" in plain
    assert _line(page, "LayerNorm in layer 1 sees only the direction")  # spiral data, zero biases


def test_constant_start_with_norm_keeps_one_distinct_unit_after_300_steps(page) -> None:
    for label in ("constant start + BatchNorm", "constant start + LayerNorm"):
        text = _line(page, f"**{label}**")
        assert "after 300 steps every hidden layer still has 1 distinct unit" in text


def test_residual_stream_follows_the_recursion(page) -> None:
    for label in ("α = 1, BatchNorm", "α = 1/√L", "α = 1/√(2L)", "α = 0, learned (SkipInit)"):
        text = _line(page, f"**{label}**:")
        gap = int(re.search(r"within (\d+)\u00a0% of the recursion at every block", text).group(1))
        assert gap <= 10, text
    doubling = _line(page, "**α = 1**:")
    measured, theory = map(
        float, re.search(r"×([\d.]+) per block on average \(recursion: ×([\d.]+)\)", doubling).groups()
    )
    assert theory == 2 and measured == pytest.approx(2, rel=0.10)


def test_stream_numbers_are_those_of_the_network_shown(page) -> None:
    """The page's numbers for α = 1/√L come from exactly this network (recomputed here, outside the page)."""
    c = am.STREAMS.configs(am.base_config())[am.STREAMS.labels.index("α = 1/√L")]
    record = run_modern([c])[0]
    assert _line(page, "**α = 1/√L**:") == am.growth_sentence(record, "α = 1/√L")
    measured = parse(re.search(rf"{NUMBER} after block 20", _line(page, "**α = 1/√L**:")).group(1))
    assert measured == pytest.approx(record.layer_stats["stream_std"][0][-1], rel=5e-3)
    assert np.isfinite(am.prediction(record)).all()


def test_skipinit_at_depth_50_reaches_a_lower_loss_than_the_plain_network(page) -> None:
    def final(label: str) -> float:
        text = _line(page, f"**{label}**: ")
        return parse(re.search(rf"{NUMBER} on the whole training set", text).group(1))

    assert "depth 50" in _line(page, "He-initialized ReLU networks")
    assert final("residual with learned α from 0") < final("plain")
    assert "did not learn" in _line(page, "**plain**: ")
    assert "**residual**: diverged" in _line(page, "**residual**: ")


@pytest.mark.parametrize("preset", presets.for_page("modern"), ids=lambda p: p.label)
def test_presets_open_without_notices(preset) -> None:
    at = open_page("modern", preset.query_params(), timeout=300)
    assert not at.exception and url_notices(at) == []
    for key, value in preset.params.items():
        assert str(at.session_state[key]) == value


@pytest.mark.parametrize(
    "query, words",
    [
        (
            {"depth": "40", "width": "64", "steps": "500", "lr": "10", "act": "relu", "sigma": "10", "dtype": "float32", "c": "10", "batch": "8"},
            "diverged at step",
        ),
        ({"depth": "1", "width": "8", "steps": "0", "act": "gelu", "data": "digits"}, "not trained"),
    ],
    ids=["diverging", "tiny"],
)  # fmt: skip
def test_extreme_settings_are_reported_in_words_without_numpy_warnings(query, words) -> None:
    import warnings

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        at = open_page("modern", query, timeout=600)
    assert not at.exception and url_notices(at) == []
    assert [w for w in record if issubclass(w.category, RuntimeWarning)] == []
    assert words in " ".join(_texts(at))


def test_the_page_in_german() -> None:
    """lang=de: every sentence, chart title, axis and legend of the lesson in German, German numbers."""
    import json

    from tests.apptest_util import english_left

    at = open_page("modern", {"lang": "de"}, timeout=300)
    assert not at.exception and url_notices(at) == []
    assert english_left(at) == []
    assert [h.value[:2] for h in at.header] == ["1.", "2.", "3.", "4."]
    assert at.header[0].value == "1. Normalisierung rettet das Signal vor einer schlechten Skalierung"
    texts = " ".join(_texts(at))
    assert "**BatchNorm**: trainiert." in texts and "**einfach**: hat nicht gelernt." in texts
    gap = re.search(r"höchstens (\d+)\u00a0% von der Rekursion", _line(at, "**α = 1/√L**:"))
    assert gap and int(gap.group(1)) <= 10
    layouts = [json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart")]
    assert (
        layouts[0]["xaxis"]["title"]["text"] == "Schicht"
        and layouts[1]["xaxis"]["title"]["text"] == "Schritt"
    )
    assert all(layout["separators"] == ",." for layout in layouts)
