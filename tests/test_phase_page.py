"""AppTest and browser tests of the Phase diagram page: its sentences match the grid, links open the exact cell.

The grid behind the page is read back from core.phase's process-wide cell cache (the same cells the page drew).
"""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest

from core import phase
from tests.apptest_util import english_left, open_page, share_link, url_notices
from ui import presets

PAGE = "phase"
CHEAP = {"cellsteps": "50", "width": "8"}  # a quick grid for tests that are about the page, not the science


def _linked(query: str) -> dict[str, str]:
    """The settings a link between lessons carries (in one open= value, ui.share.page_link)."""
    return dict(parse_qsl(dict(parse_qsl(query, keep_blank_values=True)).get("open", "")))


def _links(at) -> dict[str, dict[str, str]]:
    """Each lesson the page links to -> the settings its link carries."""
    return {pl.proto.page: _linked(pl.proto.query_string) for pl in at.page_link}


def text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def number(pattern: str, s: str) -> float:
    m = re.search(pattern, s)
    assert m, f"{pattern!r} not in the page text"
    return float(m.group(1))


def page_grid(pc: phase.PhaseConfig):
    """The page's grid: every cell is in the cell cache already, so this trains nothing."""
    g = phase.run_grid(pc, workers=1)
    assert g["cached"].all()
    return g


def test_default_page_shows_the_theory_and_the_experiment_agreeing():
    at = open_page(PAGE, timeout=300)
    assert not at.exception
    assert not url_notices(at)
    g = page_grid(phase.PhaseConfig())
    t = text(at)
    trained = (g["loss_vs_guess"] < phase.TRAINED_BELOW) & ~g["diverged"]
    assert f"**{int(trained.sum())} of 54 cells trained**" in t
    # Theory: tanh with sigma_b = 0 is critical at sigma_w = 1, computed by core.theory.
    assert "χ₁ = 1 at **σ_w = 1.000** (σ_w² = 1.000)" in t
    # Deep in the ordered phase (sigma_w = 0.25, 6 xi = 2.2 layers) nothing deeper than 2 layers trains ...
    assert "at σ_w = 0.25 (χ₁ = 0.0625)" in t and "6 ξ is 2.2 layers" in t
    deepest_ordered = number(r"at σ_w = 0\.25 .*?has (\d+) hidden layers", t)
    assert deepest_ordered <= 2
    # ... while at the critical scale networks 10x deeper still learn.
    assert number(r"at σ_w = 1, networks trained up to (\d+) hidden layers", t) >= 20
    agree = number(r"agrees with the experiment on \*\*(\d+) of 54 cells", t)
    assert agree >= 0.75 * 54
    # The picked cell (the critical scale, depth 20) and the links that open it elsewhere.
    row = g[(g["sigma_w"] == 1.0) & (g["depth"] == 20)].iloc[0]
    assert f"loss {row['initial_loss']:.3f} at the start, {row['final_loss']:.3f} at the end" in t
    links = {pl.proto.page: _linked(pl.proto.query_string) for pl in at.page_link}
    assert set(links) == {"training", "depth", "modern"} and links["modern"] == {}
    q = links["training"]
    assert (q["init"], q["scale"], q["gain"], q["depth"], q["act"], q["bias"], q["steps"], q["data"]) == (
        "lecun_normal",
        "1",
        "1",
        "20",
        "tanh",
        "zeros",
        "200",
        "moons",
    )
    assert links["depth"] == q


def test_the_page_says_its_theory_is_for_plain_networks_and_offers_no_other():
    """Issue 17: the curves hold for plain fully-connected nets only; the page says so, with its sources, and
    never trains or links anything else (no normalization, no residual block) under those curves."""
    at = open_page(PAGE, {**CHEAP, "norm": "batch", "block": "residual", "alpha": "learned"}, timeout=300)
    assert not at.exception
    t = text(at)
    assert "**Where this theory does not apply.**" in t
    for source in ("Schoenholz et al., 2017", "Yang et al., 2019", "Yang & Schoenholz, 2017"):
        assert source in t
    # the page has no such setting: the link's norm/block/alpha are reported as not used, nothing else changes
    (note,) = url_notices(at)
    assert all(f"**{key}**" in note for key in ("norm", "block", "alpha"))
    assert not any(key in at.session_state for key in ("norm", "block", "alpha", "branch"))
    pc = phase.PhaseConfig(steps=50, width=8)
    for sw in phase.sigma_ws(pc):
        for depth in phase.depths(pc):
            c = phase.cell_config(pc, sw, depth)
            assert (c.block, c.norm) == ("plain", "none")
    links = {pl.proto.page: _linked(pl.proto.query_string) for pl in at.page_link}
    assert links["modern"] == {}  # the lesson that measures them, on its own defaults


@pytest.mark.parametrize("preset", presets.for_page(PAGE), ids=lambda p: p.label)
def test_home_presets_open_without_notice(preset):
    at = open_page(PAGE, preset.query_params(), timeout=300)
    assert not at.exception and not url_notices(at)


def test_relu_critical_scale_is_he_and_above_it_deep_nets_diverge():
    at = open_page(PAGE, {"act": "relu"}, timeout=300)
    assert not at.exception
    t = text(at)
    assert "χ₁ = 1 at **σ_w = 1.414** (σ_w² = 2.000)" in t
    g = page_grid(phase.PhaseConfig(activation="relu"))
    crit = math.sqrt(2)
    div = g[g["diverged"]]
    assert len(div) >= 10 and (div["sigma_w"] > crit).all()  # only the chaotic side explodes
    assert f"**{len(div)} diverged** (✕)" in t
    # Above the critical scale q* is infinite: the theory draws no line and makes no claim about those cells.
    n_above = int((g["sigma_w"] > crit).sum())
    assert f"cells** where the line is drawn ({n_above} cells lie where q* is infinite)" in t
    near = g[(g["sigma_w"] == 1.414) & (g["depth"] == 20)].iloc[0]
    assert near["loss_vs_guess"] < phase.TRAINED_BELOW  # He init trains a 20-layer ReLU net


def test_query_params_set_every_control_and_the_share_link():
    q = {"act": "relu", "sb": "0.1", "data": "circles", "color": "accuracy", "seed": "3", **CHEAP}
    at = open_page(PAGE, q, timeout=300)
    assert not at.exception and not url_notices(at)
    for key, value in q.items():
        assert str(at.session_state[key]) == value or float(at.session_state[key]) == float(value)
    assert at.session_state["res"] == "coarse"
    link = dict(parse_qsl(urlsplit(share_link(at)).query))
    assert {k: link[k] for k in q} == q and link["res"] == "coarse"
    # the links carry the cell's exact config: sigma_b = 0.1 means N(0, 0.1^2) biases
    training = _links(at)["training"]
    assert (training["bias"], training["bval"], training["act"], training["seed"], training["steps"]) == (
        "normal",
        "0.1",
        "relu",
        "3",
        "50",
    )


def test_garbage_query_params_fall_back_to_defaults_with_a_notice():
    q = {
        "act": "swish",
        "sb": "-3",
        "res": "giant",
        "cellsteps": "lots",
        "color": "red",
        "width": "7",
        "bogus": "1",
    }
    at = open_page(PAGE, q, timeout=300)
    assert not at.exception
    notes = url_notices(at)
    assert len(notes) == 1
    for key in ("act", "sb", "res", "cellsteps", "color", "width", "bogus"):
        assert f"**{key}**" in notes[0]
    assert (at.session_state["act"], at.session_state["sb"], at.session_state["res"]) == (
        "tanh",
        0.0,
        "coarse",
    )
    assert at.session_state["cellsteps"] == phase.PhaseConfig.steps


def test_picking_a_cell_updates_its_sentence_and_links():
    at = open_page(PAGE, CHEAP, timeout=300)
    at.selectbox(key="pick_sw").select(0.25)
    at.selectbox(key="pick_depth").select(50)
    at.run()
    assert not at.exception
    g = page_grid(phase.PhaseConfig(steps=50, width=8))
    row = g[(g["sigma_w"] == 0.25) & (g["depth"] == 50)].iloc[0]
    assert row["loss_vs_guess"] > 0.98  # 50 layers at sigma_w = 0.25: ~140 xi deep, nothing to learn from
    assert "σ_w = 0.25, 50 hidden layers" in text(at) and "it did not train" in text(at)
    q = _links(at)["training"]
    assert (q["scale"], q["depth"], q["width"], q["steps"]) == ("0.25", "50", "8", "50")
    assert (q["block"], q["norm"]) == ("plain", "none")  # a lesson last left residual opens this plain cell
    # a display-only control re-colours the diagram without retraining: same cells, no new run
    at.radio(key="color").set_value("accuracy").run()
    z = np.array(_heat_z(at), dtype=float)
    assert np.nanmax(z) == pytest.approx(g.loc[~g["diverged"], "final_acc"].max())


def _heat_z(at) -> np.ndarray:
    """z of the diagram's heatmap as sent to the browser (Plotly 7 sends arrays as base64 typed arrays)."""
    import base64
    import json

    z = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["z"]
    if isinstance(z, dict):
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        return flat.reshape([int(n) for n in str(z["shape"]).split(",")]) if "shape" in z else flat
    return np.array(z, dtype=float)


# ------------------------------------------------------------------ browser: click a cell, open it


def test_browser_click_a_cell_and_open_it_on_the_training_page(app_url, context, artifacts):
    from tests.browser_util import error_texts, screenshot, wait_idle
    from tests.browser_util import share_link as share_link_in_browser
    from tests.browser_util import open_page as open_in_browser

    page = context.new_page()
    open_in_browser(page, f"{app_url}/phase?cellsteps=50&width=8", charts=True, timeout_ms=240_000)
    assert error_texts(page) == []
    sws, dps = phase.sigma_ws(phase.PhaseConfig()), phase.depths(phase.PhaseConfig())
    i, j = sws.index(2.0), dps.index(10)
    # The clickable markers: the first scatter trace of the diagram (figure trace 2, after the two heatmaps),
    # one point per cell in (depth, sigma_w) order.
    point = page.locator(".js-plotly-plot").first.locator(".scatterlayer .trace").nth(0).locator(".point")
    assert point.count() == len(sws) * len(dps)
    box = point.nth(j * len(sws) + i).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => document.body.innerText.includes('σ_w = 2, 10 hidden layers')", timeout=120_000
    )
    wait_idle(page, 120_000)
    link = page.get_by_role("link", name="Train it on the Training page")
    href = link.get_attribute("href")
    q = _linked(urlsplit(href).query)
    assert (q["scale"], q["depth"], q["init"], q["act"], q["width"], q["steps"]) == (
        "2",
        "10",
        "lecun_normal",
        "tanh",
        "8",
        "50",
    )
    screenshot(page, artifacts / "phase_clicked.png")
    link.click()
    page.wait_for_url(re.compile(r"/training\?"), timeout=60_000)
    wait_idle(page, 240_000)
    # Params equal to the Training page's defaults drop out of the address bar; its share box lists them all.
    assert dict(parse_qsl(urlsplit(page.url).query))["scale"] == "2"
    page.wait_for_function(
        "() => [...document.querySelectorAll('.initlab-link code')]"
        ".some(e => e.innerText.includes('/training?'))",
        timeout=120_000,
    )
    opened = dict(parse_qsl(urlsplit(share_link_in_browser(page)).query))
    keys = ("scale", "depth", "init", "act", "width", "steps", "bias", "lr", "data", "seed")
    assert {k: opened[k] for k in keys} == {k: q[k] for k in keys}
    assert error_texts(page) == []
    assert "could not be used" not in page.inner_text('[data-testid="stMain"]')


# ------------------------------------------------------------------ German (issue 19)


def test_the_page_in_german():
    at = open_page(PAGE, {"lang": "de", **CHEAP}, timeout=300)
    assert not at.exception and not url_notices(at)
    assert english_left(at) == []
    t = text(at)
    assert "**Wo diese Theorie nicht gilt.**" in t and "Zellen haben trainiert**" in t
    assert "χ₁ = 1 bei **σ_w = 1,000**" in t  # German numbers in the computed sentences
    charts = at.get("plotly_chart")
    import json

    spec = json.loads(charts[0].proto.spec)
    assert spec["layout"]["yaxis"]["title"]["text"] == "Tiefe (verborgene Schichten)"
    assert spec["layout"]["separators"] == ",."
    assert "Zur Lektion Normalisierung & Residuen" in [b.label for b in at.page_link]
