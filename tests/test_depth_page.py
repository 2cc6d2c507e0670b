"""AppTest and browser tests of the Depth page: every Home preset shows what SCIENCE.md says it does.

The page's numbers are checked against the run's own records (the same cached run the page drew).
"""

from __future__ import annotations

import base64
import json
import math
import re
import time

import numpy as np
import pytest

from core.config import ExperimentConfig
from core.train import run_many
from analysis import depth as ad
from figures import depth as fd
from tests.apptest_util import all_strings, config_from_link, english_left, open_page, share_link, url_notices
from ui import controls, presets, runs

PAGE = "depth"
FIXED = ad.FIXED
PRESETS = {p.label: p for p in presets.for_page(PAGE)}
_SUP = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def parse_ratio(text: str) -> float:
    """Invert ad.fmt_ratio: '×0.067' -> 0.067, '1.7×10⁻¹²' -> 1.7e-12, '10⁸' -> 1e8, '64%' -> 0.64."""
    text = text.strip().lstrip("×")
    if text.endswith("%"):
        return float(text[:-1]) / 100
    m = re.fullmatch(r"(?:([-\d.]+)×)?10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", text)
    if m:
        return float(m.group(1) or 1.0) * 10.0 ** int(m.group(2).translate(_SUP))
    return math.nan if text == "—" else float(text)


def metrics(at) -> dict[str, float]:
    return {m.label: parse_ratio(m.value) for m in at.metric}


def page_config(at) -> ExperimentConfig:
    """The config the page ran, read back from its share link; every key of it is a config field."""
    return config_from_link(at, FIXED, strict=True)


def page_record(at):
    """The run behind the page: the shared cache's entry for the page's config (trained if not cached)."""
    cfg = page_config(at)
    return cfg, runs._experiment(runs.config_key(cfg), runs.CODE_VERSION, cfg)[cfg.schemes[0]]


def _decode(obj):
    """Plotly 7 writes numpy arrays as {"dtype", "bdata"} (base64); turn them back into lists."""
    if isinstance(obj, dict):
        if set(obj) >= {"dtype", "bdata"}:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            shape = obj.get("shape")
            if isinstance(shape, str):
                shape = [int(n) for n in shape.split(",")]
            return arr.reshape(shape).tolist() if shape else arr.tolist()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def chart_specs(at) -> list[dict]:
    return [_decode(json.loads(c.proto.spec)) for c in at.get("plotly_chart")]


def open_view(at, label: str):
    """Select one of the page's tabs below the std profile (its content runs only while selected)."""
    at.session_state["depth_view"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def title(spec: dict) -> str:
    return spec["layout"].get("title", {}).get("text", "")


def markdown_text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_parse_ratio_inverts_fmt_ratio():
    for x in (0.067, 1.7e-12, 2.6e6, 1e-11, 0.95, 3.0e8):
        assert parse_ratio(ad.fmt_ratio(x)) == pytest.approx(x, rel=0.05)


# --------------------------------------------------------------------------------------- presets


def open_preset(label: str):
    preset = PRESETS[label]
    at = open_page(PAGE, preset.query_params())
    assert not at.exception, at.exception
    assert url_notices(at) == []  # every preset parameter was used as given
    for key, value in preset.params.items():
        v = at.session_state[key]
        assert (controls.fmt_number(v) if isinstance(v, float) else str(v)) == value  # widgets show it
    cfg, rec = page_record(at)
    _, input_std = ad.input_moments(cfg)
    summary = ad.summarize(rec, input_std)
    shown = metrics(at)
    # the headline numbers on the page are the record's numbers
    for label_, value, _ in ad.summary_metrics(summary):
        assert shown[label_] == pytest.approx(parse_ratio(value))
    assert ad.signal_verdict(summary) in markdown_text(at)
    return at, cfg, rec, summary


def test_preset_labels_are_the_issues_six():
    assert list(PRESETS) == [
        "σ=0.01, 10 tanh layers",
        "N(0,1), 10 tanh layers",
        "CS231n: 0.01·randn, 500 tanh units, Gaussian inputs",
        "Xavier + tanh",
        "Xavier + ReLU, 30 layers",
        "He + ReLU, 30 layers",
        "standard uniform ±1/√d",
    ]


def test_collapse_preset_signal_dies_and_theory_saw_it_coming():
    at, cfg, rec, s = open_preset("σ=0.01, 10 tanh layers")
    assert rec.layer_stats["act_std"][0, 9] < 1e-6  # last hidden layer, step 0
    assert metrics(at)["Layer 10 ÷ layer 1"] < 1e-5
    assert "The signal shrinks" in markdown_text(at)
    # fan_in * sigma^2 = 64e-4 in variance: x0.08 in std per layer (tanh is linear this small)
    assert s.signal_factor == pytest.approx(0.08, rel=0.25)
    pred = ad.predict(rec, ad.input_moments(cfg)[0])
    assert pred.act_std[-1] == pytest.approx(rec.layer_stats["act_std"][0, 9], rel=0.5)  # predicted 1e-12
    # the gradient reaching layer 1 is as tiny: x0.08 per layer going back
    assert s.grad_ratio < 1e-8


def test_saturation_preset_pins_tanh_units():
    at, cfg, rec, s = open_preset("N(0,1), 10 tanh layers")
    sat = rec.layer_stats["saturation"][0, :10]
    assert np.mean(sat[1:]) > 0.6  # layers 2..10: most |h| > 0.99
    assert metrics(at)["Saturated units"] > 0.5
    assert "saturated" in ad.signal_verdict(s)
    assert 0.8 < s.signal_factor < 1.1  # the signal does not vanish: it is stuck at +-1 instead


def test_xavier_tanh_decays_slowly():
    at, cfg, rec, s = open_preset("Xavier + tanh")
    # hidden layers: fan_in * Var(W) = 1, the critical point of tanh: only tanh's curvature shrinks the signal
    assert 0.9 < s.signal_factor < 1.0
    assert "keeps its size" in ad.signal_verdict(s)
    assert rec.layer_stats["act_std"][0, 9] > 0.05
    assert np.nanmax(rec.layer_stats["saturation"][0]) < 0.01


def test_xavier_relu_30_layers_halves_the_variance_each_layer():
    at, cfg, rec, s = open_preset("Xavier + ReLU, 30 layers")
    # Var(W) = 1/64, ReLU keeps half of E[z^2]: x1/2 in variance, x0.71 in std per layer
    assert 0.6 < s.signal_factor < 0.75
    assert s.signal_ratio < 1e-3
    pred = ad.predict(rec, ad.input_moments(cfg)[0])
    assert (pred.act_std[-1] / pred.act_std[0]) ** (1 / 29) == pytest.approx(math.sqrt(0.5), rel=1e-6)


def test_he_relu_30_layers_keeps_the_signal():
    at, cfg, rec, s = open_preset("He + ReLU, 30 layers")
    assert 0.95 < s.signal_factor < 1.05
    assert "keeps its size" in ad.signal_verdict(s)
    pred = ad.predict(rec, ad.input_moments(cfg)[0])
    np.testing.assert_allclose(pred.act_std, pred.act_std[0], rtol=1e-9)  # exactly flat at infinite width
    # A single net of 64 units wanders around the flat prediction (seed 0: layer 30 = 0.39 x layer 1); the
    # page says so in words. The wander is what finite width predicts, checked over seeds below.
    assert "wanders around it" in markdown_text(at)


@pytest.mark.slow
def test_he_relu_last_layer_within_factor_two_of_the_first_typically():
    """Last/first std ratio of He + ReLU, 30 x 64, over 8 seeds: the median is within a factor 2 of 1 (one
    net wanders: 0.29 to 1.96 over seeds 0-7, a finite-width log-normal spread, Hanin & Nica 2019), while
    Xavier + ReLU is below 1e-3 for every seed."""
    base = ExperimentConfig(depth=30, width=64, activation="relu", batch_size=256, steps=0)
    he = [base.replace(schemes=("he_normal",), seed=s) for s in range(8)]
    xa = [base.replace(schemes=("xavier_normal",), seed=s) for s in range(3)]
    recs = run_many(he + xa)
    ratio = np.array([r.layer_stats["act_std"][0, 29] / r.layer_stats["act_std"][0, 0] for r in recs])
    assert 0.5 < np.median(ratio[:8]) < 2.0
    assert np.all(ratio[8:] < 1e-3)


def test_standard_uniform_divides_the_variance_by_three_per_layer():
    at, cfg, rec, s = open_preset("standard uniform ±1/√d")
    assert 0.25 < s.signal_factor**2 < 0.36  # the verdict's "variance x0.3"
    assert "(variance ×0.3" in ad.signal_verdict(s)
    # in the linear regime of tanh (from layer 4 on, std < 0.1) each layer divides the variance by 3: the
    # geometric mean of layers 4..10 (one 64 x 64 matrix moves one ratio by ~20 %, see SCIENCE.md)
    var = rec.layer_stats["act_std"][0, :10] ** 2
    ratios = var[4:] / var[3:-1]
    assert np.exp(np.mean(np.log(ratios))) == pytest.approx(1 / 3, rel=0.08)
    assert np.all((ratios > 0.2) & (ratios < 0.45))
    pred = ad.predict(rec, ad.input_moments(cfg)[0]).act_std ** 2
    np.testing.assert_allclose(pred[4:] / pred[3:-1], 1 / 3, rtol=0.03)  # theory: 1/3 minus tanh's curvature


# --------------------------------------------------------------------------------------- URL handling


def test_default_page_is_the_classic_tutorial_start():
    at = open_page(PAGE)
    assert not at.exception
    d = ad.DEFAULTS
    assert (at.session_state["init"],) == d["schemes"] and at.session_state["sigma"] == d[
        "weight_std"
    ] == 0.01
    assert at.session_state["depth"] == d["depth"] and at.session_state["width"] == d["width"]
    assert at.session_state["batch"] == d["batch_size"] and at.session_state["steps"] == d["steps"]
    assert page_config(at) == ad.default_config()  # the page runs the lesson's default experiment
    assert metrics(at)["Layer 10 ÷ layer 1"] < 1e-5
    # the std profile and the first tab (log10|h|) draw at once; every other tab when it is opened
    assert len(at.get("plotly_chart")) == 2
    assert len(open_view(at, "Histograms per layer").get("plotly_chart")) == 3
    assert len(open_view(at, "Saturated or dead units").get("plotly_chart")) == 2
    assert url_notices(at) == []


def test_query_params_set_the_widgets():
    q = {"init": "he_uniform", "mode": "fan_out", "depth": "7", "width": "32", "act": "relu", "scale": "2"}
    at = open_page(PAGE, q)
    assert not at.exception and url_notices(at) == []
    assert at.session_state["init"] == "he_uniform" and at.session_state["mode"] == "fan_out"
    assert at.session_state["depth"] == 7 and at.session_state["width"] == 32
    assert at.session_state["act"] == "relu" and at.session_state["scale"] == 2.0
    assert "Layer 7 ÷ layer 1" in metrics(at)
    cfg = page_config(at)
    assert (cfg.depth, cfg.width, cfg.scale, cfg.schemes) == (7, 32, 2.0, ("he_uniform",))


def test_an_exact_scale_from_the_phase_page_is_accepted():
    at = open_page(PAGE, {"init": "lecun_normal", "scale": "1.414", "depth": "20"})
    assert not at.exception and url_notices(at) == []
    assert at.session_state["scale"] == pytest.approx(1.414)


def test_garbage_query_params_fall_back_to_defaults_with_a_notice():
    q = {"depth": "abc", "init": "bogus", "scale": "1e999", "act": "<b>x</b>", "zzz": "1", "width": "7.5"}
    at = open_page(PAGE, q)
    assert not at.exception
    assert at.session_state["depth"] == 10 and at.session_state["init"] == "normal"
    assert at.session_state["act"] == "tanh" and at.session_state["width"] == 64
    notice = " ".join(url_notices(at))
    for key in ("depth", "init", "act", "zzz", "width"):
        assert f"**{key}**" in notice
    assert "<b>" not in notice  # a URL value is never rendered as markup
    assert metrics(at)["Layer 10 ÷ layer 1"] < 1e-5  # the default experiment ran


def test_divergence_is_said_in_plain_words():
    at = open_page(PAGE, {"init": "normal", "sigma": "1", "act": "relu"})
    assert not at.exception
    assert any("Training stopped at step" in w.value for w in at.warning)
    assert metrics(at)["Signal per layer"] > 3  # and the step-0 picture is still there


def test_overflow_at_initialization_is_said_in_plain_words():
    q = {"init": "normal", "sigma": "10", "scale": "10", "act": "relu", "depth": "30", "dtype": "float32"}
    at = open_page(PAGE, q)
    assert not at.exception
    assert any("Nothing is left to show" in w.value for w in at.warning)
    assert "dtype=float32" in share_link(at)  # the link to this experiment is still there


@pytest.mark.parametrize(
    "query, says",
    [
        (
            {"init": "zeros"},
            (
                "do not vary at all (std exactly 0; its weights are all equal)",
                "nothing to say about this start",
            ),
        ),
        ({"init": "lsuv", "act": "relu"}, ("set by construction, not predicted",)),
        ({"init": "normal", "sigma": "0.01", "depth": "50", "dtype": "float32"}, ("the values underflowed",)),
    ],
)
def test_starts_outside_the_theory_are_explained(query, says):
    at = open_page(PAGE, query)
    assert not at.exception and url_notices(at) == []
    for sentence in says:
        assert sentence in markdown_text(at)


# --------------------------------------------------------------------------------------- charts on the page


def test_step_slider_shows_a_checkpoint_without_retraining():
    at = open_page(PAGE, PRESETS["Xavier + tanh"].query_params())
    cfg, rec = page_record(at)
    last = int(rec.hist_steps[-1])
    open_view(at, "Histograms per layer")
    t = time.perf_counter()
    at.select_slider(key="depth_step").set_value(last).run()
    assert not at.exception
    assert time.perf_counter() - t < 5
    specs = chart_specs(at)
    std = next(s for s in specs if any(tr.get("name") == f"measured at step {last}" for tr in s["data"]))
    later = [tr for tr in std["data"] if tr.get("name") == f"measured at step {last}"]
    i = ad.stat_index(rec, last)
    np.testing.assert_allclose(later[0]["y"][1:], rec.layer_stats["act_std"][i, :10])
    np.testing.assert_allclose(later[1]["y"], rec.layer_stats["backprop_std"][i])
    hist = next(s for s in specs if title(s) == f"activations h, step {last}")
    c = len(rec.hist_steps) - 1
    frac, _ = ad.hist_fractions(rec.hists["act"], c, 10)
    np.testing.assert_allclose(np.asarray(hist["data"][0]["customdata"])[1:-1:2, 1], frac[0])


def test_page_charts_plot_the_records_numbers_at_init():
    at = open_page(PAGE, PRESETS["standard uniform ±1/√d"].query_params())
    cfg, rec = page_record(at)
    specs = chart_specs(at)
    std = specs[0]
    init = [tr for tr in std["data"] if tr.get("name") == "measured at init"]
    m2, input_std = ad.input_moments(cfg)
    np.testing.assert_allclose(init[0]["y"], [input_std, *rec.layer_stats["act_std"][0, :10]])
    theory = [tr for tr in std["data"] if tr.get("name") == "mean-field prediction"]
    np.testing.assert_allclose(theory[0]["y"][1:], ad.predict(rec, m2).act_std)
    sat = chart_specs(open_view(at, "Saturated or dead units"))[-1]
    np.testing.assert_allclose(sat["data"][0]["y"], rec.layer_stats["saturation"][0, :10])


def test_log_activation_view_follows_the_records_network():
    """The log10|h| overview is the record's own histogram, at every checkpoint."""
    cfg = ad.default_config(steps=20)
    rec = run_many([cfg])[0]
    hist = rec.hists["act_log"]
    assert hist.transform == "log10abs"
    assert (hist.counts.sum(axis=2) + hist.zeros == 256 * np.array([64] * 10 + [3])).all()
    # the typical |h| of layer 10 sits within half a decade of its std (1e-12), not in one bin with layer 1
    words = ad.log_activation_sentence(hist, 10, 0, 0)
    assert words.startswith("At initialization, ") and "in layer 10 lies between 5.6×10⁻¹³ and 10⁻¹²" in words
    assert ad.log_activation_sentence(hist, 10, 1, int(rec.hist_steps[1])).startswith("At step ")
    med = np.searchsorted(np.cumsum(hist.counts[0, 9]) / hist.counts[0, 9].sum(), 0.5)
    centre = (hist.edges[med] + hist.edges[med + 1]) / 2
    assert abs(centre - math.log10(rec.layer_stats["act_std"][0, 9])) < 0.6
    fig = fd.log_activation_heatmap(hist, 10, 0, 0)
    np.testing.assert_allclose(np.array(fig.data[0].z)[9].sum(), hist.counts[0, 9].sum() / (256 * 64))


def test_default_payload_is_small():
    cfg = ad.default_config()
    rec = run_many([cfg])[0]
    m2, input_std = ad.input_moments(cfg)
    figs = [
        fd.std_profile(rec, 0, ad.predict(rec, m2), input_std),
        fd.log_activation_heatmap(rec.hists["act_log"], 10, 0, 0),
        fd.histogram_figure(rec, "act", 0),
        fd.histogram_figure(rec, "grad", 0),
        fd.saturation_figure(rec, 0),
    ]
    assert fd.chart_payload_bytes(figs) < 1_000_000


# --------------------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_browser_depth_page_renders_every_chart(app_url, context, artifacts):
    from tests.browser_util import error_texts, screenshot
    from tests.browser_util import open_page as open_in_browser

    page = context.new_page()
    q = "&".join(f"{k}={v}" for k, v in PRESETS["He + ReLU, 30 layers"].params.items())
    open_in_browser(page, f"{app_url}/depth?{q}", charts=True)
    assert error_texts(page) == []
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    text = page.inner_text('[data-testid="stMain"]')
    assert "keeps its size" in text and "Layer 30 ÷ layer 1" in text
    # a tab draws its charts when opened
    page.get_by_role("tab", name="Histograms per layer").click()
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=60_000
    )
    assert error_texts(page) == []
    # the step slider re-draws the charts at a checkpoint, with no error
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Show the network at training step")
    slider.locator("input").first.focus()
    page.keyboard.press("End")
    page.wait_for_function("() => document.body.innerText.includes('measured at step 100')", timeout=60_000)
    assert error_texts(page) == []
    screenshot(page, artifacts / "depth.png")


# --------------------------------------------------------------------------------------- German


@pytest.mark.parametrize(
    "query",
    [
        {},  # the default: the signal collapses
        PRESETS["N(0,1), 10 tanh layers"].params,  # saturated units, their sentences and chart
        {"init": "zeros", "steps": "0", "depth": "1"},  # no theory, no training, one hidden layer
        {"act": "relu", "init": "he_normal", "depth": "3", "steps": "20"},  # dead units
    ],
    ids=["default", "saturated", "zeros-one-layer", "relu"],
)
def test_the_german_page_has_no_english_sentence_of_the_lesson(query):
    """?lang=de: every tab of the page, every metric, sentence, chart title, axis, legend and hover text in
    German; no piece of the catalog's English messages is left, and the numbers are German (decimal comma)."""
    at = open_page(PAGE, {**query, "lang": "de"}, timeout=300)
    assert not at.exception, at.exception
    shown, specs = [], []
    for label in (
        "Größen auf logarithmischer Skala",
        "Histogramme pro Schicht",
        "Gesättigte oder tote Neuronen",
    ):
        open_view(at, label)
        shown += all_strings(at)
        specs += [c.proto.spec for c in at.get("plotly_chart")]
    english = english_left(shown)
    assert english == [], f"English left on the German Depth page: {english}"
    text = "\n".join(shown)
    # the German is there: metrics, sentences and chart words, with German numbers
    assert "Signal pro Schicht" in [m.label for m in at.metric]
    assert "Schicht 1" in text and "Schicht (0 = Eingabe)" in text
    assert not re.search(r"\blayer\b|\boutput\b|of entries", "\n".join(specs))  # ticks, hover, axes
    if not query:
        assert "Das Signal schrumpft" in markdown_text(at)
        assert re.search(r"×0,0\d+ pro Schicht", markdown_text(at))  # decimal comma in the sentence


def test_switching_the_language_keeps_the_open_tab():
    from ui import i18n as ui_i18n

    at = open_page(PAGE, {"lang": "en", **PRESETS["Xavier + tanh"].params}, timeout=300)
    open_view(at, "Histograms per layer")
    at.session_state[ui_i18n._STATE] = "de"  # what the switch's callback does
    at.run()
    assert not at.exception
    assert at.session_state["depth_view"] == "Histogramme pro Schicht"
    assert len(at.get("plotly_chart")) == 3  # the std profile and the two histograms, now in German
    assert "Signal pro Schicht" in [m.label for m in at.metric]


def test_the_formulas_are_drawn_only_while_their_box_is_open():
    """A closed box draws nothing (the browser then need not load the formula renderer); opened, it shows the
    two formulas and the symbols."""
    at = open_page("depth", {"steps": "0", "depth": "3"})
    assert not at.exception and len(at.latex) == 0
    at.session_state["depth_formulas"] = True
    at.run()
    assert not at.exception
    assert [x.value.strip("$\n").split("=")[0].strip() for x in at.latex] == [
        r"\operatorname{Var}[z_l]",
        r"\mathbb{E}\!\left[h_l^2\right]",
    ]
    assert any("fan_in" in c.value for c in at.caption)
