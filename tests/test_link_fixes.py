"""Links and settings a page cannot use as given: clamped to the nearest allowed value, near-miss ids
suggested, and settings too large to run cut (with a notice) instead of refused.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from core.config import MAX_WORK, ExperimentConfig, fit_to_budget, validate
from tests.apptest_util import open_page, share_link, url_notices
from ui import share


def test_out_of_range_numbers_clamp_to_the_nearest_allowed_value_with_a_notice():
    at = open_page("training", {"depth": "300", "width": "1000", "lr": "0.000001", "steps": "50"})
    assert not at.exception
    assert (at.session_state["depth"], at.session_state["width"], at.session_state["lr"]) == (50, 256, 1e-05)
    (notice,) = url_notices(at)
    assert "**depth** = 300 is out of range; using the largest allowed value, 50." in notice
    assert "**lr** = 1e-06 is out of range; using the smallest allowed value, 1e-05." in notice
    # the address (what a reload or a copied address bar opens) says what the page uses
    assert at.query_params["depth"] in ("50", ["50"]) and at.query_params["width"] in ("256", ["256"])
    assert "depth=50" in share_link(at)


def test_page_limits_clamp_too():
    at = open_page("symmetry", {"depth": "9"})  # the symmetry lesson offers 1-3 hidden layers
    assert not at.exception and at.session_state["depth"] == 3
    assert "using the largest allowed value, 3." in url_notices(at)[0]


@pytest.mark.parametrize(
    "asked,hint",
    [("xavier", "`xavier_normal` or `xavier_uniform`?"), ("he_norml", "`he_normal`"), ("kaiming", "")],
)
def test_near_miss_ids_suggest_the_intended_one(asked, hint):
    at = open_page("depth", {"init": asked})
    assert not at.exception
    (notice,) = url_notices(at)
    if hint:
        assert f"Did you mean {hint}" in notice
    else:
        assert "Did you mean" not in notice


def test_suggest():
    ids = ("xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "zeros")
    assert share.suggest("xavier", ids) == ["xavier_normal", "xavier_uniform"]
    assert share.suggest("zero", ids)[0] == "zeros"
    assert share.suggest("relu6", ("relu", "tanh"))[0] == "relu"


def test_every_reachable_training_setting_runs():
    """Hidden layers 50 and units 256 by the sliders: the run is cut to fit, with a notice, never refused."""
    at = open_page("training", {"depth": "50", "width": "256", "steps": "3000", "batch": "512"})
    assert not at.exception
    assert not [e.value for e in at.error], "the page refused to run"
    info = " ".join(i.value for i in at.info)
    assert "width cut from 256 to" in info and "steps cut from 3000 to" in info
    assert at.get("plotly_chart")


@pytest.mark.parametrize("n_schemes", [1, 4, 6])
def test_fit_to_budget_makes_the_largest_setting_valid(n_schemes):
    from core.initializers import SCHEMES

    cfg = ExperimentConfig(
        depth=50,
        width=256,
        n_samples=2000,
        batch_size=512,
        steps=3000,
        schemes=tuple(SCHEMES)[:n_schemes],
    )
    assert cfg.work > MAX_WORK
    fitted, notes = fit_to_budget(cfg)
    assert validate(fitted) is fitted and fitted.work <= MAX_WORK
    assert fitted.depth == 50 and notes


def test_training_target_follows_the_classes_and_is_in_the_link():
    at = open_page("training", {"target": "0.3", "steps": "100"})
    assert at.number_input(key="target").value == 0.3 and "target=0.3" in share_link(at)
    at.selectbox(key="data").set_value("moons").run()  # 2 classes: the default target is 0.5 ln 2
    assert not at.exception
    assert at.number_input(key="target").value == 0.35 and ("target", "0.35") in parse_qsl(urlsplit(share_link(at)).query)
