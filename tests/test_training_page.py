"""The Training page (/training) end to end: AppTest for what it computes and says, Chromium for what it shows.

The numbers on the page must be the numbers of core.train for the same config; display controls never retrain.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import textwrap
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

import core.train
from tests.apptest_util import open_page, url_notices
from core.config import DATASETS, ExperimentConfig
from core.data import load
from analysis import training as an
from i18n.numbers import pct
from ui import presets, runs

ROOT = Path(__file__).resolve().parent.parent
PAGE = "training"
DEFAULT = an.DEFAULTS  # the page's config at its defaults
DEFAULT_SCHEMES = DEFAULT.schemes


def spec(chart) -> dict:
    return json.loads(chart.proto.spec)


def array(value) -> np.ndarray:
    """A Plotly JSON array: a plain list, or a typed array {"dtype", "bdata"} (Plotly >= 6)."""
    if isinstance(value, dict) and "bdata" in value:
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            shape = value["shape"]
            shape = [int(n) for n in shape.split(",")] if isinstance(shape, str) else shape
            a = a.reshape(shape)
        return a
    return np.asarray(value, dtype=float)


def charts(at) -> list[dict]:
    return [spec(c) for c in at.get("plotly_chart")]


def chart(at, title_start: str) -> dict:
    found = [c for c in charts(at) if c["layout"]["title"]["text"].startswith(title_start)]
    assert found, f"no chart titled {title_start!r}"
    return found[0]


def texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def sentence(at, start: str) -> str:
    found = [t for t in texts(at) if t.startswith(start)]
    assert found, f"no sentence starting {start!r} in {texts(at)}"
    return found[0]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def open_tab(at, label: str):
    """Open one of the page's tabs (only the open tab is computed and drawn)."""
    at.session_state["tr_section"] = label
    return at.run()


@pytest.fixture(scope="module")
def default_page():
    return open_page(PAGE)


@pytest.fixture(scope="module")
def default_records():
    return core.train.run_experiment(DEFAULT)


def test_defaults_run_and_say_what_zero_and_tiny_weights_do(default_page, default_records):
    at = default_page
    assert not at.exception
    assert not at.error and not url_notices(at)
    assert tuple(at.session_state["init"]) == DEFAULT_SCHEMES
    # one metric per scheme: final train loss, as core computed it
    m = metrics(at)
    assert m["Zeros"] == "1.10"
    assert m["Xavier (Glorot) uniform"] == an.fmt(default_records["xavier_uniform"].train_loss[-1])
    loss = sentence(at, "Train loss on the whole train split, start → after 300 steps")
    assert "Zeros: still 1.10 after 300 steps (no learning)" in loss and "ln 3 = 1.10" in loss
    assert f"Normal (fixed σ), σ = 0.01: still {an.fmt(math.log(3))}" in loss
    he = default_records["he_normal"].train_loss
    assert f"He (Kaiming) normal: {an.fmt(he[0])} → {an.fmt(he[-1])}" in loss
    assert he[-1] < 0.5
    open_tab(at, "Gradient norms")
    assert "Zeros: exactly zero gradient in every layer" in sentence(at, "At initialization (step 0)")
    open_tab(at, "Step sizes")
    assert "Zeros: no weight matrix ever moves" in sentence(at, "Median update-to-weight ratio")
    # σ = 0.01: the scaled rules' gradients are thousands of times larger
    open_tab(at, "Gradients by layer")
    gap = sentence(at, "Layer by layer, the typical gradient of")
    low = float(re.search(r"is ([\d,.e+-]+) (?:to [\d,.e+-]+ )?times", gap).group(1).replace(",", ""))
    assert "Normal (fixed σ), σ = 0.01" in gap and low > 1000
    # the results table is the records' numbers
    table = at.dataframe[0].value
    assert list(table["scheme"]) == list(DEFAULT_SCHEMES)
    np.testing.assert_allclose(
        table["final test accuracy"], [r.test_acc[-1] for r in default_records.values()]
    )


def test_plotted_losses_equal_the_core_records(default_page, default_records):
    fig = chart(default_page, "Loss:")
    by_name = {t["name"]: t for t in fig["data"]}
    for scheme, r in default_records.items():
        label = an.run_label(r)
        train = by_name[label]
        np.testing.assert_array_equal(array(train["y"]), r.loss)
        np.testing.assert_array_equal(array(train["x"]), np.arange(len(r.loss)))
        test = by_name[f"{label} · test"]
        np.testing.assert_array_equal(array(test["y"]), r.test_loss)
        np.testing.assert_array_equal(array(test["x"]), r.eval_steps)
    heat = chart(open_tab(default_page, "Gradient norms"), "Gradient norm")
    xavier = [
        t for t in heat["data"] if t.get("hovertemplate", "").endswith("Xavier (Glorot) uniform</extra>")
    ]
    np.testing.assert_allclose(
        array(xavier[0]["z"]).astype(float),
        np.log10(default_records["xavier_uniform"].layer_stats["grad_norm"]).T,
    )


def test_every_scheme_sees_the_same_batches(default_records):
    digests = {r.batch_digest for r in default_records.values()}
    assert len(digests) == 1
    # and the digest is of the batches: another seed draws other batches
    other = core.train.run_experiment(DEFAULT.replace(seed=1, steps=20, schemes=("zeros", "he_normal")))
    assert {r.batch_digest for r in other.values()} != digests


@pytest.mark.parametrize("dataset", DATASETS)
def test_each_data_set(dataset):
    at = open_page(PAGE, {"data": dataset, "steps": "50", "init": ["zeros", "he_normal"]})
    assert not at.exception and not url_notices(at)
    if dataset != "gaussian":  # 500-D inputs: no decision regions, no last tab
        open_tab(at, "Confusion matrices" if dataset == "digits" else "Decision regions")
    titles = [c["layout"]["title"]["text"] for c in charts(at)]
    k = 10 if dataset == "digits" else 2 if dataset in ("moons", "circles", "xor") else 3
    assert f"ln {k} = {math.log(k):.2f}" in sentence(
        at, "Train loss on the whole train split, start → after 50 steps"
    )
    if dataset == "digits":
        assert any(t.startswith("Confusion matrices") for t in titles)
        assert not any(t.startswith("Decision regions") for t in titles)
        cm = chart(at, "Confusion matrices")
        best = array(cm["data"][0]["z"])
        assert best.shape == (10, 10) and best.sum() == len(load("digits", 600).y_test)
        assert "He (Kaiming) normal classifies" in sentence(at, "He (Kaiming) normal classifies")
    elif dataset == "gaussian":  # 500-D inputs: no decision regions to draw
        assert not any(t.startswith("Decision regions") for t in titles)
    else:
        assert any(t.startswith("Decision regions") for t in titles)
        assert "Zeros predicts class" in sentence(at, "Zeros predicts class")


def test_a_diverging_run_is_named_and_the_others_still_draw():
    at = open_page(
        PAGE, {"init": ["normal", "xavier_uniform", "he_normal"], "sigma": "1", "act": "relu", "lr": "1"}
    )
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1
    assert warnings[0].startswith("**Normal (fixed σ), σ = 1 diverged.** Training stopped at step")
    step = int(re.search(r"stopped at step (\d+)", warnings[0]).group(1))
    assert 0 < step < 300
    fig = chart(at, "Loss:")
    by_name = {t["name"]: t for t in fig["data"]}
    marker = by_name["Normal (fixed σ), σ = 1 · diverged"]
    assert array(marker["x"]).tolist() == [step]
    assert (
        len(array(by_name["Normal (fixed σ), σ = 1"]["y"])) == step
    )  # the records end at the last finite step
    for label in ("Xavier (Glorot) uniform", "He (Kaiming) normal"):
        y = array(by_name[label]["y"])
        assert len(y) == 300 and np.isfinite(y).all()
    # the axis is not blown up by the exploding loss, and the page says so
    assert fig["layout"]["yaxis"]["range"][1] < 20
    assert any(c.value.startswith("The loss axis stops at") for c in at.caption)
    assert "diverged at step" in sentence(at, "Train loss on the whole train split")
    assert metrics(at)["Normal (fixed σ), σ = 1"] == "diverged"


def test_query_params_set_the_widgets():
    q = {
        "init": ["he_normal", "orthogonal"],
        "depth": "5",
        "width": "64",
        "act": "relu",
        "opt": "adam",
        "lr": "0.01",
        "steps": "100",
        "batch": "32",
        "data": "moons",
        "seed": "3",
    }
    at = open_page(PAGE, q)
    assert not at.exception and not url_notices(at)
    assert tuple(at.session_state["init"]) == ("he_normal", "orthogonal")
    assert (at.session_state["depth"], at.session_state["width"], at.session_state["act"]) == (5, 64, "relu")
    assert (at.session_state["opt"], at.session_state["lr"], at.session_state["steps"]) == ("adam", 0.01, 100)
    assert set(metrics(at)) == {"He (Kaiming) normal", "Orthogonal"}
    heat = chart(open_tab(at, "Gradient norms"), "Gradient norm")
    assert array(heat["data"][0]["z"]).shape == (6, 11)  # 5 hidden layers + output, steps 0..100 every 10


def test_garbage_query_params_fall_back_to_defaults_with_a_notice():
    at = open_page(
        PAGE, {"depth": "abc", "init": ["bogus", "he_normal"], "lr": "-3", "steps": "1e9", "foo": "x"}
    )
    assert not at.exception
    notes = url_notices(at)
    assert len(notes) == 1
    for key in ("depth", "init", "lr", "steps", "foo"):
        assert f"**{key}**" in notes[0]
    # malformed: the default; out of range (lr=-3, steps=1e9): the nearest allowed value
    assert at.session_state["depth"] == 3 and at.session_state["lr"] == 1e-05
    assert at.session_state["steps"] == 3000
    assert tuple(at.session_state["init"]) == ("he_normal",)
    assert any("second initialization" in i.value for i in at.info)


def test_no_scheme_picked_says_so():
    at = open_page(PAGE)
    at.multiselect(key="init").set_value([]).run()
    assert not at.exception
    assert at.error and "Pick at least one initialization" in at.error[0].value


def test_display_controls_never_retrain():
    runs.clear()
    real = core.train.run_experiment
    with mock.patch("core.train.run_experiment", side_effect=real) as run:
        at = open_page(PAGE, {"steps": "60"})
        assert run.call_count == 1
        ridge = chart(at, "log10 |gradient")
        assert "at step 0" in ridge["layout"]["title"]["text"]
        at.select_slider(key="tr_step").set_value(30).run()
        at.toggle(key="tr_log").set_value(True).run()
        at.number_input(key="target").set_value(0.9).run()
        assert not at.exception
        assert run.call_count == 1
        assert "at step 30" in chart(at, "log10 |gradient")["layout"]["title"]["text"]
        assert chart(at, "Loss:")["layout"]["yaxis"]["type"] == "log"
        at.slider(key="depth").set_value(4).run()  # an experiment control does retrain
        assert run.call_count == 2


def test_accuracy_is_a_tab_drawn_when_opened_and_the_log_scale_is_kept(default_records):
    """On arrival only the loss tab is drawn; the accuracy tab shows the records' accuracies and its sentence,
    and the loss axis keeps its log scale across the switch (the toggle is not drawn meanwhile)."""
    at = open_page(PAGE)
    titles = [c["layout"]["title"]["text"] for c in charts(at)]
    assert not any(t.startswith("Accuracy:") for t in titles) and any(t.startswith("Loss:") for t in titles)
    at.toggle(key="tr_log").set_value(True).run()
    at.session_state["tr_curve"] = "Accuracy"
    at.run()
    assert not at.exception
    accuracy = chart(at, "Accuracy:")
    assert not any(c["layout"]["title"]["text"].startswith("Loss:") for c in charts(at))
    he = [t for t in accuracy["data"] if t.get("name") == an.run_label(default_records["he_normal"])]
    np.testing.assert_allclose(array(he[0]["y"]), default_records["he_normal"].train_acc)
    assert sentence(at, "Final test accuracy: best ").endswith(f"(guessing would give about {pct(1 / 3)}).")
    at.session_state["tr_curve"] = "Loss"
    at.run()
    assert at.toggle(key="tr_log").value is True
    assert chart(at, "Loss:")["layout"]["yaxis"]["type"] == "log"


# ------------------------------------------------------------------------------------------ presets


def preset(label: str) -> presets.Preset:
    found = [p for p in presets.for_page(PAGE) if p.label == label]
    assert found, f"no preset {label!r} for the training page"
    return found[0]


def test_every_training_preset_opens_cleanly():
    assert len(presets.for_page(PAGE)) >= 2


def test_preset_zero_vs_xavier_on_spirals():
    p = preset("zero vs Xavier on spirals")
    at = open_page(PAGE, p.query_params())
    assert not at.exception and not url_notices(at)
    records = core.train.run_experiment(
        ExperimentConfig(
            schemes=("zeros", "xavier_uniform"), dataset="spiral", n_checkpoints=11, record_every=10
        )
    )
    loss = sentence(at, "Train loss on the whole train split, start → after 300 steps")
    xavier = records["xavier_uniform"].train_loss[-1]
    assert "Zeros: still 1.10 after 300 steps (no learning)" in loss and "ln 3 = 1.10" in loss
    assert (
        f"Xavier (Glorot) uniform: {an.fmt(records['xavier_uniform'].train_loss[0])} → {an.fmt(xavier)}"
        in loss
    )
    assert xavier < 0.6
    assert "Zeros: every entry of every layer is exactly 0" in sentence(at, "At step 0, the typical")
    assert "Zeros predicts class" in sentence(open_tab(at, "Decision regions"), "Zeros predicts class")


def test_preset_xavier_vs_he_at_depth_30_with_relu():
    p = preset("Xavier vs He at depth 30 with ReLU")
    at = open_page(PAGE, p.query_params())
    assert not at.exception and not url_notices(at)
    loss = sentence(at, "Train loss on the whole train split")
    assert "Xavier (Glorot) normal: still 1.10 after 300 steps (no learning)" in loss
    he = re.search(r"He \(Kaiming\) normal: ([\d.]+) → ([\d.]+)", loss)
    assert float(he.group(2)) < float(he.group(1)) - 0.1  # He learns, Xavier does not move
    gap = sentence(at, "Layer by layer, the typical gradient of He (Kaiming) normal")
    low = float(re.search(r"is ([\d,.e+-]+) (?:to [\d,.e+-]+ )?times", gap).group(1).replace(",", ""))
    assert low > 1000  # ReLU halves Xavier's signal in every one of 30 layers: 2^-15 per direction
    assert "that of Xavier (Glorot) normal" in gap


# ------------------------------------------------------------------------------------------ browser

SITECUSTOMIZE = """
# Test instrumentation: every call of core.train.run_experiment in this server appends a line to a file.
import os
import sys

sys.path.insert(0, os.getcwd())
import core.train as _train

_real = _train.run_experiment


def _counted(config, progress=None):
    with open(os.environ["INITLAB_RUN_LOG"], "a") as f:
        f.write(repr(config.schemes) + "\\n")
    return _real(config, progress=progress)


_train.run_experiment = _counted
"""


@pytest.fixture(scope="module")
def counted_app(tmp_path_factory, artifacts):
    """`streamlit run app.py` whose run_experiment calls are counted in a file (yields url, log path)."""
    from tests.conftest import serve

    hook = tmp_path_factory.mktemp("hook")
    (hook / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE))
    log = hook / "runs.log"
    log.write_text("")
    env = dict(os.environ, PYTHONPATH=f"{hook}{os.pathsep}{ROOT}", INITLAB_RUN_LOG=str(log))
    with serve(artifacts / "training-server.log", env=env) as url:
        yield url, log


@pytest.mark.browser
def test_browser_page_and_step_slider_without_retraining(counted_app, context, artifacts):
    from tests.browser_util import error_texts, screenshot, wait_idle
    from tests.browser_util import open_page as open_in_browser

    url, log = counted_app
    page = context.new_page()
    start = time.perf_counter()
    open_in_browser(page, f"{url}/training", charts=True)
    first_load = time.perf_counter() - start
    assert error_texts(page) == []
    assert page.get_by_text("The training race").count() >= 1
    # the loss and the open tab's histograms (accuracy and the other tabs draw when opened)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    assert log.read_text().count("\n") == 1  # one training run for the page
    title = "() => [...document.querySelectorAll('.gtitle')].map(t => t.textContent).join('|')"
    assert "by layer at step 0" in page.evaluate(title)

    # one step of the histogram slider: the ridgeline redraws, nothing is trained again
    slider = page.locator('.st-key-tr_step input[type="range"]')
    assert slider.get_attribute("aria-valuetext") == "0"
    slider.focus()
    t0 = time.perf_counter()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gtitle')].some(t => t.textContent.includes('by layer at step 30'))",
        timeout=30_000,
    )
    wait_idle(page)
    redraw = time.perf_counter() - t0
    assert log.read_text().count("\n") == 1
    assert error_texts(page) == []
    assert slider.get_attribute("aria-valuetext") == "30"
    # the other charts are still there (the fragment redrew only its own part)
    assert page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length") >= 2

    # a second visit (another student opening the same link) is served from the shared cache
    page2 = context.new_page()
    t1 = time.perf_counter()
    open_in_browser(page2, f"{url}/training", charts=True)
    warm_load = time.perf_counter() - t1
    assert log.read_text().count("\n") == 1
    screenshot(page2, artifacts / "training.png")
    (artifacts / "training-timings.txt").write_text(
        f"first load {first_load:.2f} s, step-slider redraw {redraw:.2f} s, warm load {warm_load:.2f} s\n"
    )
    assert redraw < 10


# ------------------------------------------------------------------------------------------ German


def test_lang_de_shows_the_page_in_german_with_german_numbers_and_table_headers(default_records):
    import i18n
    from tests.apptest_util import all_strings, english_left

    at = open_page(PAGE, {"lang": "de"}, timeout=120)
    assert not at.exception and not url_notices(at)
    strings = all_strings(at)
    for tab in (
        "Gradientennormen",
        "Schrittgrößen",
        "Entscheidungsgebiete",
        "Gradienten Schicht für Schicht",
    ):
        strings += all_strings(open_tab(at, tab))  # every tab, each drawn when opened
        assert not at.exception
    assert english_left(strings) == []
    # a soft hyphen lets the long compound break on a phone
    assert at.title[0].value == "Das Trainingsrennen: Initialisierungs\u00adverfahren nebeneinander"
    # numbers the German way: decimal comma in metrics and sentences
    assert metrics(at)["Nullen"] == "1,10"
    loss = sentence(at, "Trainingsverlust auf allen Trainingsdaten, Start → nach 300 Schritten")
    assert "Nullen: nach 300 Schritten immer noch 1,10 (kein Lernen)" in loss and "ln 3 = 1,10" in loss
    he = default_records["he_normal"].train_loss
    with i18n.use("de"):
        start, final = an.fmt(he[0]), an.fmt(he[-1])
        steps_csv = an.per_step_table(list(default_records.values())).to_csv(index=False).splitlines()[0]
    assert f"He (Kaiming), normalverteilt: {start} → {final}" in loss and "," in final and "." not in final
    # the charts: German titles and axes, Plotly's separators for German
    titles = [c["layout"]["title"]["text"] for c in charts(at)]
    assert "Verlust: Training (jedes Mini-Batch, durchgezogen) und Test (gestrichelt)" in titles
    assert all('"separators":",."' in c.proto.spec.replace(" ", "") for c in at.get("plotly_chart"))
    # the results table (and so its CSV download) and the every-step CSV have German headers
    table = at.dataframe[0].value
    assert list(table.columns)[:6] == [
        "Verfahren",
        "Bezeichnung",
        "Trainingsverlust am Ende",
        "Testverlust am Ende",
        "Trainingsgenauigkeit am Ende",
        "Testgenauigkeit am Ende",
    ]
    assert "Schritte bis Trainingsverlust ≤ 0,55" in table.columns
    # the numbers in the table as German writes them (the CSV keeps plain numbers for spreadsheets)
    import pyarrow as pa

    shown = pa.ipc.open_stream(at.dataframe[0].proto.arrow_data.styler.display_values).read_pandas()
    assert shown["Trainingsverlust am Ende"].tolist()[0] == "1,0986"  # zeros: ln 3
    assert all(re.fullmatch(r"\d+,\d\d\u00a0%", v) for v in shown["Testgenauigkeit am Ende"])
    assert steps_csv.startswith("Verfahren,Schritt,Batch-Verlust,Trainingsverlust,Testverlust,")
    assert "Gradientennorm Schicht 1" in steps_csv
