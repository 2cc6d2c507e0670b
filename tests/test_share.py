"""Share links: config <-> URL round trip for every parameter, and hostile URLs handled in plain words.

Uses tests/fixtures/all_controls_page.py (every control once) and the home page of the real app.
"""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from core import config as C
from core.config import ExperimentConfig
from tests.apptest_util import NOTICE_TITLE, open_page, share_link, url_notices
from ui import controls, share

PAGE = str(Path(__file__).parent / "fixtures" / "all_controls_page.py")
DEFAULTS = ExperimentConfig()


def run_page(query: dict[str, str | list[str]]) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def page_config(at: AppTest) -> ExperimentConfig:
    """The config the page's widgets describe (before fit_to_budget)."""
    return at.session_state["_test_values"]


def notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith(NOTICE_TITLE)]


# ------------------------------------------------------------------ valid values of every control


def _ints(name: str) -> st.SearchStrategy[int]:
    lo, hi = C.LIMITS[name]
    return st.integers(int(lo), int(hi))


def _steps_of(lo: float, hi: float, step: float) -> st.SearchStrategy[float]:
    n = int(round((hi - lo) / step))
    return st.integers(0, n).map(lambda i: round(lo + i * step, 6))


VALID: dict[str, st.SearchStrategy] = {
    "dataset": st.sampled_from(C.DATASETS),
    "n_samples": _steps_of(100, 2000, 50).map(int),
    "noise": _steps_of(0.0, 1.0, 0.05),
    "n_classes": _ints("n_classes"),
    "data_seed": _ints("data_seed"),
    "depth": _ints("depth"),
    "width": st.sampled_from(controls.WIDTH_GRID),
    "activation": st.sampled_from(C.ACTIVATIONS),
    "schemes": st.lists(
        st.sampled_from(controls.FIELDS["schemes"].choices), min_size=1, max_size=6, unique=True
    ).map(tuple),
    "scale": st.sampled_from(controls.SCALE_GRID),
    "gain": st.sampled_from(("1", "auto")),
    "weight_std": st.sampled_from(controls.SIGMA_GRID),
    "weight_const": st.integers(-100, 100).map(lambda i: i / 10),
    "weight_bound": st.sampled_from(controls.BOUND_GRID),
    "sparsity": st.sampled_from(controls.SPARSITY_GRID),
    "he_mode": st.sampled_from(C.HE_MODES),
    "leaky_slope": _steps_of(0.0, 1.0, 0.01),
    "bias_init": st.sampled_from(C.BIAS_INITS),
    "bias_value": st.integers(-100, 100).map(lambda i: i / 10),
    "optimizer": st.sampled_from(C.OPTIMIZERS),
    "lr": st.sampled_from(controls.LR_GRID),
    "batch_size": st.sampled_from(controls.BATCH_GRID),
    "steps": _steps_of(0, 3000, 50).map(int),
    "seed": _ints("seed"),
    "dtype": st.sampled_from(C.DTYPES),
    "block": st.sampled_from(C.BLOCKS),
    "norm": st.sampled_from(C.NORMS),
    "alpha": st.sampled_from(C.ALPHAS),
    "branch_layers": st.sampled_from(C.BRANCH_LAYERS),
    "input_dim": _ints("input_dim"),
    "output_init": st.sampled_from(C.OUTPUT_INITS),
}


def to_url(value) -> list[str]:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float):
        return [controls.fmt_number(value)]
    return [str(value)]


def test_every_config_field_with_a_url_key_has_a_valid_value_strategy():
    assert set(VALID) == set(controls.URL_KEYS)
    assert len(set(controls.URL_KEYS.values())) == len(controls.URL_KEYS)  # one key per idea


def test_default_link_lists_every_parameter_once_in_drawing_order():
    at = run_page({})
    assert not at.exception and notices(at) == []
    pairs = parse_qsl(urlsplit(share_link(at)).query)
    assert [k for k, _ in pairs] == [*controls.URL_KEYS.values(), "lang"]  # the language last (ui.i18n)
    assert dict(pairs) == {
        **{controls.URL_KEYS[f]: to_url(getattr(DEFAULTS, f))[0] for f in controls.URL_KEYS},
        "lang": "en",
    }
    assert page_config(at) == DEFAULTS


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=VALID))
def test_url_round_trip_of_every_parameter(values):
    query = {
        controls.URL_KEYS[f]: (to_url(v) if isinstance(v, tuple) else to_url(v)[0]) for f, v in values.items()
    }
    at = run_page(query)
    assert not at.exception
    assert notices(at) == [], query
    config = page_config(at)
    for field, value in values.items():
        got = getattr(config, field)
        if isinstance(value, float):
            assert math.isclose(got, value, rel_tol=1e-12), field
        else:
            assert got == value, field
    # The share link states every field, and opening it gives the same config.
    link = share_link(at)
    pairs = parse_qsl(urlsplit(link).query)
    for field, value in values.items():
        assert [v for k, v in pairs if k == controls.URL_KEYS[field]] == to_url(value), field
    again = run_page({k: [v for kk, v in pairs if kk == k] for k in dict(pairs)})
    assert page_config(again) == config and share_link(again) == link


# ------------------------------------------------------------------ hostile URLs

GARBAGE = {
    "depth": "99",  # out of range
    "width": "4.5",  # not a whole number
    "sigma": "abc",  # wrong type
    "lr": "nan",
    "scale": "-1",
    "steps": "1e9",
    "seed": "-5",
    "noise": "inf",
    "act": "<b>relu</b>",
    "data": ["moons", "spiral"],  # repeated key for a single value
    "init": ["he_normal", "bogus", "he_normal"],
    "foo": "$x^2$ :red[alert] [link](http://example.com) ![img](http://example.com/x.png)",
    "x" * 300: "y" * 5000,  # huge key and value
    "üñí©ødé": "<script>alert(1)</script>",
}


def test_garbage_falls_back_to_defaults_with_one_plain_notice():
    at = run_page(GARBAGE)
    assert not at.exception
    config = page_config(at)
    for field in ("width", "weight_std", "lr", "noise", "activation"):  # malformed: the default
        assert getattr(config, field) == getattr(DEFAULTS, field), field
    # out of range: the nearest allowed value
    assert (config.depth, config.scale, config.steps, config.seed) == (50, 0.01, 3000, 0)
    assert config.dataset == DEFAULTS.dataset
    assert config.schemes == ("he_normal",)  # the valid part of init is kept, and reported
    (notice,) = notices(at)
    lines = [ln for ln in notice.splitlines() if ln.startswith("- ")]
    assert len(GARBAGE) > share.MAX_REPORTED  # the list is capped, and says how many more
    assert len(lines) == share.MAX_REPORTED + 1
    assert lines[-1] == f"- … and {len(GARBAGE) - share.MAX_REPORTED} more."
    assert "- **depth** = 99 is out of range; using the largest allowed value, 50." in lines
    assert "was given more than once; using spiral" in notice
    assert "no setting by that name" in notice
    # Nothing from the URL reaches the page as markup: every markup character is escaped, long text cut.
    for raw in ("<script>", "<b>", "](http", "$x", ":red["):
        assert raw not in notice
    assert "y" * 100 not in notice and "x" * 100 not in notice


@pytest.mark.parametrize("page", ["training", "modern"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_a_non_finite_whole_number_is_named_and_the_default_used(page, value):
    """`dseed=inf` once crashed Training and Modern: Streamlit seeds a bound whole-number box with int(inf)."""
    at = open_page(page, {"dseed": value, "seed": value})
    assert not at.exception, [e.value for e in at.exception]
    (notice,) = url_notices(at)
    shown = share.md_escape(value)  # -inf: the minus escaped for markdown
    assert f"**dseed** = {shown} is not valid" in notice and f"**seed** = {shown} is not valid" in notice
    assert at.session_state["seed"] == 0 and "dseed=0" in share_link(at) and "seed=0" in share_link(at)


def test_reserved_streamlit_params_are_not_reported_nor_shared():
    at = run_page({"embed": "true", "embed_options": "show_toolbar"})
    assert notices(at) == []
    assert "embed" not in share_link(at)


def test_notice_disappears_once_a_setting_changes():
    at = run_page({"depth": "99"})
    assert len(notices(at)) == 1
    at.run()  # a rerun with the same settings keeps it
    assert len(notices(at)) == 1
    at.slider(key="depth").set_value(7).run()
    assert notices(at) == []
    assert page_config(at).depth == 7


def test_a_linked_value_between_grid_points_is_kept():
    """Log sliders move on a grid, but a link may ask for any value in range (the Phase page's 1.414)."""
    at = run_page({"scale": "1.414", "width": "100", "lr": "0.0123"})
    assert notices(at) == []
    config = page_config(at)
    assert (config.scale, config.width, config.lr) == (1.414, 100, 0.0123)
    shared = dict(parse_qsl(urlsplit(share_link(at)).query))
    assert (shared["scale"], shared["width"], shared["lr"]) == ("1.414", "100", "0.0123")
    at = run_page({"scale": "1000", "width": "100.5"})
    # out of range: the nearest grid end; not a whole number: the default
    assert page_config(at).scale == 100.0 and page_config(at).width == DEFAULTS.width
    (notice,) = notices(at)
    assert "**scale** = 1000 is out of range; using the largest allowed value, 100." in notice
    assert "**width** = 100\\.5 is not valid (allowed: a whole number from 2 to 256)" in notice


def test_budget_cut_is_reported_and_applied():
    query = {"depth": "20", "width": "128", "batch": "256", "steps": "3000", "init": ["zeros", "he_normal"]}
    at = run_page(query)
    assert not at.exception and notices(at) == []
    (info,) = [i.value for i in at.info]
    assert "steps cut from 3000 to" in info
    fitted = at.session_state["_test_config"]
    assert page_config(at).steps == 3000
    assert fitted.work <= C.MAX_WORK and 0 < fitted.steps < 3000


@given(st.text(max_size=200))
def test_md_escape_leaves_no_markup(text):
    out = share.md_escape(text)
    # Every ASCII punctuation character is preceded by a backslash, so markdown reads it literally.
    i = 0
    while i < len(out):
        ch = out[i]
        if ch == "\\":
            assert i + 1 < len(out) and not out[i + 1].isalnum(), out
            i += 2
            continue
        assert not (ch.isascii() and not ch.isalnum() and ch.isprintable() and ch != " "), (ch, out)
        i += 1
    assert len(out) <= 2 * (share.MAX_SHOWN + 1)


def test_controls_refuse_ranges_outside_the_limits():
    def script():
        import streamlit as st

        from ui import controls, share

        share.begin("t")
        try:
            controls.depth(max_value=500)
        except ValueError as err:  # .streamlit/config.toml redacts uncaught errors, so catch and show it
            st.text(str(err))

    at = AppTest.from_function(script).run()
    assert at.text[0].value == "depth: the range [1, 500] must lie within the limits [1, 50]"


@pytest.mark.parametrize(
    "fixed, error",
    [
        ({"depth": 4}, "depth: both a control and a fixed value"),
        ({"nonsense": 1}, "not fields of ExperimentConfig"),
    ],
)
def test_config_refuses_ambiguous_or_unknown_fixed_fields(fixed, error):
    def script(fixed):
        import streamlit as st

        from ui import controls, share

        share.begin("t")
        controls.depth()
        try:
            controls.config(**fixed)
        except ValueError as err:
            st.text(str(err))

    at = AppTest.from_function(script, args=(fixed,)).run()
    assert error in at.text[0].value


def test_scheme_params_draws_one_control_per_parameter_the_registry_says_a_scheme_reads():
    def page():
        import streamlit as st

        from ui import controls, share

        share.begin("all")
        controls.scheme_params(("sparse", "he_normal", "constant"), weight_std=0.1)
        st.session_state["_drawn"] = controls.values()

    at = AppTest.from_function(page).run()
    assert not at.exception
    # sparse reads sparsity and sigma, He its mode, constant c; gain and scale have page-wide controls
    assert at.session_state["_drawn"] == {
        "sparsity": 0.1,
        "weight_std": 0.1,
        "weight_const": 0.5,
        "he_mode": "fan_in",
    }
