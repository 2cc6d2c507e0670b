"""The Symmetry page end to end: every preset says what SCIENCE.md says, URLs set widgets, bad URLs are answered.

AppTest runs the real app (st.navigation); one browser test checks the rendered page in headless Chromium.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

from analysis import symmetry as an
from core.train import run_many
from tests.apptest_util import english_left, open_page, share_link, url_notices
from ui import presets

PAGE = "symmetry"
PAGE_CONFIG = an.default_config()  # the experiment the page trains by default
REFERENCE = an.REFERENCE


def texts(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def chart_data(at, index: int) -> list[dict]:
    """The traces of the page's index-th Plotly chart, typed arrays decoded to numpy."""
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    out = []
    for trace in spec["data"]:
        t = dict(trace)
        for key in ("x", "y", "z"):
            v = t.get(key)
            if isinstance(v, dict) and "bdata" in v:
                a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
                if "shape" in v:
                    a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
                t[key] = a
        out.append(t)
    return out


def ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# ------------------------------------------------------------------ presets from the home page


def check_all_zeros(at) -> None:
    t = texts(at)
    assert metric(at, "Distinct units, your start") == "1 of 16"
    assert "With zero weights and tanh, every hidden weight gradient is exactly 0" in t
    assert "only the output bias learned" in t
    # the predicted probabilities are the class frequencies (within 3 points after 300 steps)
    m = re.search(r"every point \((.*?)\) — the class frequencies of the training set are (.*?)\.", t)
    predicted = [float(x) for x in re.findall(r"(\d+)\u00a0%", m.group(1))]
    freq = [float(x) for x in re.findall(r"(\d+)\u00a0%", m.group(2))]
    assert len(predicted) == len(freq) == 3
    assert np.allclose(predicted, freq, atol=3)
    assert "All 16 units of each of the 2 hidden layers are still identical after 300 steps" in t
    assert "ends on the dashed line" in t
    assert metric(at, "Test accuracy, your start") == "33\u00a0%"


def check_constant(at) -> None:
    t = texts(at)
    assert metric(at, "Distinct units, your start") == "1 of 16"
    assert "All 16 units of each of the 2 hidden layers are still identical after 300 steps" in t
    moved = re.search(r"‖W_end − W_0‖ = ([\d.e+-]+) in layer 1, ([\d.e+-]+) in layer 2", t)
    assert moved and float(moved.group(1)) > 0.1 and float(moved.group(2)) > 0.1
    assert "every column is still identical" in t
    assert "gradient is exactly 0" not in t  # constant weights do get gradients


def check_random_biases(at) -> None:
    t = texts(at)
    distinct = metric(at, "Distinct units, your start")
    assert int(distinct.split()[0]) > 1  # symmetry is broken ...
    (shown,) = [m for m in at.metric if m.label == "Distinct units, your start"]
    assert shown.delta == "weight vectors parallel"
    assert "the units start different only through their random biases (16 distinct of 16" in t
    assert "mean |cosine| ≥ 0.99 until step 300" in t  # ... but the weight vectors stay parallel
    assert "Symmetry is broken, but badly" in t
    cos_ref = float(re.search(r"\(Xavier \(Glorot\) uniform \(reference\): ([\d.]+)\)", t).group(1))
    assert cos_ref < 0.5
    assert int(metric(at, "Test accuracy, your start").split()[0]) < 50
    assert int(metric(at, "Test accuracy, reference").split()[0]) > 85


def check_small_random(at) -> None:
    t = texts(at)
    assert metric(at, "Distinct units, your start") == "16 of 16"
    assert (
        "**Normal (fixed σ), σ = 0.01**: Every one of the 16 units of every hidden layer is different after 300 steps"
        in t
    )
    assert (
        "identical" not in t.split("The weights")[0].split("Are the units")[0] or "still identical" not in t
    )
    assert "still identical" not in t
    assert int(metric(at, "Test accuracy, your start").split()[0]) > 85


CHECKS = {
    "all zeros": check_all_zeros,
    "constant 0.5": check_constant,
    "zero weights, random biases": check_random_biases,
    "small random": check_small_random,
}


def test_the_home_page_offers_exactly_these_presets():
    assert {p.label for p in presets.for_page(PAGE)} == set(CHECKS)


@pytest.mark.parametrize("preset", presets.for_page(PAGE), ids=lambda p: p.label)
def test_preset_shows_what_the_science_says(preset):
    at = open_page(PAGE, preset.query_params())
    ok(at)
    assert url_notices(at) == []
    for key, value in preset.params.items():
        shown = at.session_state[key]
        if isinstance(shown, float):
            assert shown == pytest.approx(float(value))
        else:
            assert str(shown) == value
    CHECKS[preset.label](at)


# ------------------------------------------------------------------ the subtleties of SCIENCE.md


def test_sigmoid_zero_weights_move_but_stay_identical():
    at = open_page(PAGE, {"init": "zeros", "bias": "zeros", "act": "sigmoid"})
    ok(at)
    t = texts(at)
    assert "every sigmoid unit starts at 0.50 (not 0), so the weights do get a gradient" in t
    moved = re.search(r"‖W_end − W_0‖ = ([\d.e+-]+) in layer 1, ([\d.e+-]+) in layer 2", t)
    assert moved and float(moved.group(1)) > 0 and float(moved.group(2)) > 0
    assert "gradient is exactly 0" not in t
    assert metric(at, "Distinct units, your start") == "1 of 16"


def test_relu_zero_weights_get_no_gradient():
    at = open_page(PAGE, {"init": "zeros", "act": "relu", "depth": "1"})
    ok(at)
    t = texts(at)
    assert "With zero weights and relu, every hidden weight gradient is exactly 0" in t
    assert (
        "All 16 units of hidden layer 1 are still identical after 300 steps: the layer acts like a single unit"
        in t
    )


def test_dead_start_sentence_matches_the_records_gradients():
    """The page's claim "every hidden weight gradient is exactly 0" is checked against the trained record."""
    cfg = PAGE_CONFIG.replace(schemes=("zeros",))
    rec, ref = run_many([cfg, cfg.replace(**REFERENCE)])
    assert np.all(rec.layer_stats["grad_norm"] == 0.0)
    assert np.all(ref.layer_stats["grad_norm"][:, :2] > 0)
    assert np.all(rec.symmetry["distinct"] == 1) and np.all(ref.symmetry["distinct"] == 16)


# ------------------------------------------------------------------ defaults, URL, display controls


def test_default_page_and_its_heatmap_equal_the_records():
    at = open_page(PAGE)
    ok(at)
    assert url_notices(at) == []
    assert at.session_state["init"] == "constant" and at.session_state["width"] == 16
    assert metric(at, "Distinct units, your start") == "1 of 16"
    assert metric(at, "Distinct units, reference") == "16 of 16"
    rec, ref = run_many([PAGE_CONFIG, PAGE_CONFIG.replace(**REFERENCE)])
    # the loss chart plots the records' train loss
    loss = chart_data(at, 0)
    np.testing.assert_allclose(loss[0]["y"], rec.train_loss)
    np.testing.assert_allclose(loss[1]["y"], ref.train_loss)
    # the heatmap (the first tab) shows hidden layer 2 at the last step, both starts
    assert len(at.get("plotly_chart")) == 2  # the closed tab's chart is not sent
    heat = [t for t in chart_data(at, 1) if t["type"] == "heatmap"]
    np.testing.assert_allclose(heat[0]["z"], rec.weight_snapshots[-1][1])
    np.testing.assert_allclose(heat[1]["z"], ref.weight_snapshots[-1][1])
    assert np.ptp(heat[0]["z"], axis=1).max() == 0.0  # every column identical
    assert metric(at, "Test accuracy, your start") == f"{100 * rec.test_acc[-1]:.0f}\u00a0%"


def test_decision_regions_are_drawn_when_opened_and_show_the_records_boundary():
    at = open_page(PAGE)
    ok(at)
    assert len(at.get("plotly_chart")) == 2  # the regions' expander starts closed: its chart is not sent
    at.session_state["sym_regions"] = True
    at.run()
    ok(at)
    assert len(at.get("plotly_chart")) == 3
    rec, ref = run_many([PAGE_CONFIG, PAGE_CONFIG.replace(**REFERENCE)])
    heat = [t for t in chart_data(at, 2) if t["type"] == "heatmap"]
    np.testing.assert_array_equal(np.floor(heat[0]["z"]), rec.boundary)  # predicted class + confidence
    np.testing.assert_array_equal(np.floor(heat[1]["z"]), ref.boundary)


def test_the_distinct_units_tab_draws_when_opened_and_is_in_the_link():
    """Tab 2 (a click, or a teacher's `view=distinct` link) shows the records' distinct units; tab 1's heatmap
    is then not sent, and the share link and the address bar name the open tab."""
    at = open_page(PAGE)
    assert "view=weights" in share_link(at) and "view" not in at.query_params  # tab 1: what the page opens on
    at.session_state["sym_view"] = "Distinct units over training"
    at.run()
    ok(at)
    rec, ref = run_many([PAGE_CONFIG, PAGE_CONFIG.replace(**REFERENCE)])
    assert len(at.get("plotly_chart")) == 2
    distinct = {t["name"]: t for t in chart_data(at, 1) if t.get("xaxis", "x") == "x"}
    for record, label in ((rec, an.start_label(PAGE_CONFIG)), (ref, an.reference_label(PAGE_CONFIG.replace(**REFERENCE)))):
        np.testing.assert_allclose(distinct[f"{label}, layer 2"]["y"], record.symmetry["distinct"][:, 1])
    assert "view=distinct" in share_link(at) and at.query_params["view"] == "distinct"
    assert "Step 300, hidden layer" not in texts(at)  # the heatmap's sentence went with its tab
    linked = open_page(PAGE, {"view": "distinct"})
    assert url_notices(linked) == [] and linked.session_state["sym_view"] == "Distinct units over training"
    wrong = open_page(PAGE, {"view": "cosine"})
    assert "**view** = cosine is not valid (allowed: weights or distinct)" in url_notices(wrong)[0]
    assert wrong.session_state["sym_view"] == "The weights, one column per unit"


def test_scrubbing_the_heatmap_changes_step_and_layer():
    at = open_page(PAGE)
    at.select_slider(key="sym_step").set_value(0).run()
    ok(at)
    assert "Step 0, hidden layer 2 — Constant, c = 0.5: all 16 columns are identical" in texts(at)
    at.radio(key="layer").set_value(1).run()
    ok(at)
    t = texts(at)
    assert "Step 0, hidden layer 1 — Constant, c = 0.5: all 16 columns are identical" in t
    heat = [t for t in chart_data(at, 1) if t["type"] == "heatmap"]
    assert heat[0]["z"].shape == (2, 16) and np.all(heat[0]["z"] == 0.5)


def test_query_params_set_the_widgets_and_the_run():
    q = {"init": "normal", "sigma": "0.1", "width": "8", "depth": "1", "act": "relu", "opt": "adam",
         "lr": "0.01", "steps": "100", "data": "moons", "seed": "3"}  # fmt: skip
    at = open_page(PAGE, q)
    ok(at)
    assert url_notices(at) == []
    assert at.session_state["width"] == 8 and at.session_state["depth"] == 1
    assert at.session_state["act"] == "relu" and at.session_state["opt"] == "adam"
    assert at.session_state["steps"] == 100 and at.session_state["data"] == "moons"
    assert at.session_state["sigma"] == pytest.approx(0.1) and at.session_state["seed"] == 3
    assert metric(at, "Distinct units, your start") == "8 of 8"
    assert (
        "**Normal (fixed σ), σ = 0.1**: Every one of the 8 units of every hidden layer is different after 100 steps"
        in texts(at)
    )
    link = share_link(at)
    for key, value in q.items():
        assert f"{key}={value}" in link


def test_garbage_query_params_fall_back_to_defaults_with_a_notice():
    q = {"init": "bogus", "width": "7.5", "steps": "abc", "depth": "9", "act": "gelu", "zzz": "1", "c": "nan"}
    at = open_page(PAGE, q)
    ok(at)
    notices = url_notices(at)
    assert len(notices) == 1
    for key in ("init", "width", "steps", "depth", "act", "zzz"):
        assert f"**{key}**" in notices[0]
    assert at.session_state["init"] == "constant" and at.session_state["width"] == 16
    # depth=9 is out of the lesson's range 1-3: the nearest allowed value
    assert at.session_state["depth"] == 3 and at.session_state["steps"] == 300
    assert metric(at, "Distinct units, your start") == "1 of 16"


def test_a_diverging_run_is_reported_in_words():
    at = open_page(PAGE, {"init": "normal", "sigma": "10", "act": "relu", "opt": "sgd", "lr": "10"})
    ok(at)
    t = texts(at) + "\n".join(w.value for w in at.warning)
    assert "Traceback" not in t
    assert at.get("plotly_chart")  # the charts still draw


def test_steps_zero_shows_the_initialization():
    at = open_page(PAGE, {"steps": "0"})
    ok(at)
    t = texts(at)
    assert "All 16 units of each of the 2 hidden layers are identical at initialization" in t
    assert "At initialization the train loss" in t


# ------------------------------------------------------------------ the rendered page


@pytest.mark.browser
def test_browser_preset_page_renders_its_charts_and_verdicts(app_url, context, artifacts):
    from tests.browser_util import error_texts, screenshot, wait_idle
    from tests.browser_util import open_page as open_browser_page

    page = context.new_page()
    open_browser_page(page, f"{app_url}/symmetry?init=zeros&bias=normal&bval=0.1", charts=True)
    assert error_texts(page) == []
    plots = "document.querySelectorAll('.js-plotly-plot').length"
    page.wait_for_function(f"() => {plots} >= 2")
    assert page.evaluate(f"() => {plots}") == 2  # the distinct units' tab and the decision regions: when opened
    page.get_by_text("Decision regions and test points").click()
    page.wait_for_function(f"() => {plots} >= 3")
    wait_idle(page)
    body = page.inner_text("body")
    assert "Symmetry is broken, but badly" in body
    assert "16 of 16" in body
    # the heatmap draws one column per unit of hidden layer 2: 16 x 16 cells in each of its two panels
    heatmaps = page.evaluate(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => (p.data || [])"
        ".filter(t => t.type === 'heatmap').length)"
    )
    assert heatmaps.count(2) == 2  # the weight matrices and the decision boundaries
    screenshot(page, artifacts / "symmetry-random-biases.png")


def test_sparse_shows_its_parameters_and_trains_with_them():
    """The scheme's parameters come from Scheme.params (controls.scheme_params), not from an if-chain."""
    at = open_page(PAGE, {"init": "sparse", "sparsity": "0.5", "sigma": "0.2", "width": "8", "depth": "1"})
    ok(at)
    assert url_notices(at) == []
    assert at.session_state["sparsity"] == pytest.approx(0.5) and at.session_state["sigma"] == pytest.approx(
        0.2
    )
    link = share_link(at)
    assert "sparsity=0.5" in link and "sigma=0.2" in link
    rec, _ref = run_many(
        [PAGE_CONFIG.replace(schemes=("sparse",), sparsity=0.5, weight_std=0.2, width=8, depth=1)]
        + [PAGE_CONFIG.replace(width=8, depth=1, **REFERENCE)]
    )
    np.testing.assert_allclose(chart_data(at, 0)[0]["y"], rec.train_loss)
    # torch.nn.init.sparse_: half of each input's 8 outgoing weights of hidden layer 1 start at 0
    assert np.all((rec.weight_snapshots[0][0] == 0).sum(axis=1) == 4)


# ------------------------------------------------------------------ German


def test_lang_de_shows_the_symmetry_page_in_german():
    at = open_page(PAGE, {"lang": "de", "init": "zeros", "bias": "normal", "bval": "0.1", "view": "distinct"})
    ok(at)
    assert english_left(at) == []
    assert at.title[0].value == "Warum nicht bei null starten? Symmetrie"
    t = texts(at)
    assert "die Neuronen unterscheiden sich am Anfang nur durch ihre zufälligen Biases" in t.replace(
        "Die", "die"
    )
    assert "Die Symmetrie ist gebrochen, aber schlecht" in t
    # German numbers: decimal comma in computed sentences, percent with a space
    cos_ref = re.search(r"\(Xavier \(Glorot\), gleichverteilt \(Referenz\): (\d+,\d\d)\)", t)
    assert cos_ref and float(cos_ref.group(1).replace(",", ".")) < 0.5
    assert re.search(r"Nach 300 Schritten liegt der Trainingsverlust von \*\*.*?\*\* bei \d,\d{3} ", t)
    assert re.search(r"Testgenauigkeit nach 300 Schritten – .*\d\u00a0%", t)
    assert metric(at, "Verschiedene Neuronen, Ihr Start") == "16 von 16"
    (shown,) = [m for m in at.metric if m.label == "Verschiedene Neuronen, Ihr Start"]
    assert shown.delta == "Gewichtsvektoren parallel"
    # the charts speak German too (axis titles, legend names)
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "Schritt"
    assert any(", Schicht 1" in tr.get("name", "") for tr in spec["data"])
    assert spec["layout"]["separators"].startswith(",")
