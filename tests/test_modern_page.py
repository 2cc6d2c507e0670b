"""AppTest of the normalization & residuals lesson: every claim the page prints, checked against the runs."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from analysis import modern as am
from core.modern import run_modern
from tests.apptest_util import open_page, share_link, url_notices
from tests.test_modern_figures import NUMBER, parse
from ui import presets

pytestmark = pytest.mark.slow  # the four parts train 15 networks (~10 s on the 2-core machine)
TAB_KEY = "modern_part"  # st.session_state key of the page's tabs
TABS = ("1. Normalization rescues", "2. Symmetry", "3. Residual streams", "4. The race")


@dataclass
class Shown:
    """What one tab of the page showed: its paragraphs, headers and charts (by key)."""

    texts: list[str]
    headers: list[str]
    charts: list[str]


def _shown(at) -> Shown:
    assert not at.exception, at.exception
    return Shown(
        [m.value for m in at.markdown], [h.value for h in at.header], [c.key for c in at.get("plotly_chart")]
    )


def open_tab(at, label: str):
    """Open one of the page's tabs (as a click does: its label into the tabs' state, then a rerun)."""
    at.session_state[TAB_KEY] = label
    return at.run()


@contextlib.contextmanager
def counting() -> Iterator[list[list]]:
    """The configs of every comparison the page computes (ui.runs.modern) inside this block, in order."""
    from ui import runs

    computed: list[list] = []
    real = runs.modern

    def counted(configs):
        computed.append(list(configs))
        return real(configs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runs, "modern", counted)
        yield computed


@pytest.fixture(scope="module")
def opened():
    """The page at its defaults: every part the page computed on load and on opening each tab, and what each
    tab showed ("default" = the page as it opens)."""
    with counting() as computed:
        at = open_page("modern", timeout=300)
        shown = {"default": _shown(at)}
        on_load = list(computed)
        for label in TABS:
            shown[label] = _shown(open_tab(at, label))
    assert url_notices(at) == []
    return on_load, shown


@pytest.fixture(scope="module")
def page(opened) -> list[str]:
    """Every paragraph of the page, all four tabs."""
    return [t for label in TABS for t in opened[1][label].texts]


def _line(texts: list[str], start: str) -> str:
    hits = [t for t in texts if t.startswith(start)]
    assert len(hits) == 1, (start, hits)
    return hits[0]


def test_opening_the_page_computes_only_the_first_part(opened) -> None:
    """The default view trains the rescue part's networks only (issue 17: it computes in under 2 s); each
    other part is trained when its tab is opened."""
    on_load, shown = opened
    base = am.base_config()
    assert on_load == [am.RESCUE.configs(base)]
    assert shown["default"].charts == ["modern_rescue_std", "modern_rescue_loss"]
    assert shown["default"].texts == shown[TABS[0]].texts


def test_each_tab_shows_its_part_with_its_heading_and_charts(opened) -> None:
    shown = opened[1]
    charts = {
        TABS[0]: ["modern_rescue_std", "modern_rescue_loss"],
        TABS[1]: ["modern_symmetry"],
        TABS[2]: ["modern_streams"],
        TABS[3]: ["modern_race"],
    }
    for i, label in enumerate(TABS):
        assert [h[:2] for h in shown[label].headers] == [f"{i + 1}."], label
        assert shown[label].charts == charts[label]
    intro = _line(shown["default"].texts, "Modern networks normalize")
    assert "Four experiments, one per tab below" in intro


def _counted(query: dict[str, str]):
    """The page opened with `query`, and the configs of every comparison it computed."""
    with counting() as computed:
        at = open_page("modern", query, timeout=300)
    assert not at.exception, at.exception
    return at, computed


def test_a_link_opens_its_tab_and_computes_only_that_part() -> None:
    """`part=race` (a teacher's "look at the race") opens tab 4 and trains the race's networks only."""
    at, computed = _counted({"part": "race"})
    assert url_notices(at) == []
    assert at.session_state[TAB_KEY] == TABS[3] and _shown(at).headers == ["4. The race"]
    assert computed == [am.RACE.configs(am.base_config())]
    assert "part=race" in share_link(at) and at.query_params["part"] == "race"


def test_the_open_tab_is_in_the_share_link_and_the_address() -> None:
    at = open_page("modern", timeout=300)
    assert "part=rescue" in share_link(at) and "part" not in at.query_params  # tab 1: what the page opens on
    for label, part in zip(TABS, ("rescue", "symmetry", "streams", "race")):
        open_tab(at, label)
        assert f"part={part}&" in share_link(at)
        assert at.query_params.get("part") == (None if part == "rescue" else part)
    open_tab(at, TABS[0])
    assert "part" not in at.query_params


def test_a_wrong_part_in_a_link_is_named_and_the_first_tab_opens() -> None:
    at, computed = _counted({"part": "racing"})
    assert (
        url_notices(at)
        and "**part** = racing is not valid (allowed: rescue, symmetry, streams or race)"
        in (url_notices(at)[0])
    )
    assert at.session_state[TAB_KEY] == TABS[0] and computed == [am.RESCUE.configs(am.base_config())]


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
        texts = [t for label in TABS for t in _shown(open_tab(at, label)).texts]  # every part, one by one
    assert [w for w in record if issubclass(w.category, RuntimeWarning)] == []
    assert words in " ".join(texts)


def test_the_page_in_german() -> None:
    """lang=de: every sentence, chart title, axis and legend of the lesson in German, German numbers."""
    import json

    from tests.apptest_util import english_left

    from i18n import _, use

    at = open_page("modern", {"lang": "de"}, timeout=300)
    assert not at.exception and url_notices(at) == []
    with use("de"):
        tabs = [_(label) for label in TABS]
    assert tabs[0] == "1. Normalisierung rettet" and at.session_state[TAB_KEY] == tabs[0]
    shown, english, layouts = [], [], []
    for label in tabs:
        shown.append(_shown(open_tab(at, label)))
        english += english_left(at)
        layouts += [json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart")]
    assert english == []
    assert [h for s in shown for h in s.headers][0] == (
        "1. Normalisierung rettet das Signal vor einer schlechten Skalierung"
    )
    assert [h[:2] for s in shown for h in s.headers] == ["1.", "2.", "3.", "4."]
    texts = [t for s in shown for t in s.texts]
    assert "**BatchNorm**: trainiert." in " ".join(texts) and "**einfach**: hat nicht gelernt." in " ".join(
        texts
    )
    gap = re.search(r"höchstens (\d+)\u00a0% von der Rekursion", _line(texts, "**α = 1/√L**:"))
    assert gap and int(gap.group(1)) <= 10
    assert (
        layouts[0]["xaxis"]["title"]["text"] == "Schicht"
        and layouts[1]["xaxis"]["title"]["text"] == "Schritt"
    )
    assert all(layout["separators"] == ",." for layout in layouts)


def test_a_german_link_opens_its_tab() -> None:
    at = open_page("modern", {"lang": "de", "part": "race"}, timeout=300)
    assert not at.exception and url_notices(at) == []
    assert at.session_state[TAB_KEY] == "4. Das Wettrennen" and _shown(at).headers == ["4. Das Wettrennen"]


def test_switching_the_language_keeps_the_open_tab() -> None:
    from tests.test_i18n import _app
    from ui import i18n as ui_i18n
    from ui import nav

    at = _app({"lang": "en"})
    at.switch_page(nav.by_url_path("modern").file).run(timeout=300)
    open_tab(at, TABS[3])
    at.session_state[ui_i18n._STATE] = "de"  # what the switch's callback does
    at.run(timeout=300)
    assert not at.exception, at.exception
    assert at.session_state[TAB_KEY] == "4. Das Wettrennen"
    assert _shown(at).charts == ["modern_race"] and _shown(at).headers == ["4. Das Wettrennen"]
