"""Predict first: the right option of every question is the one the run's numbers select; the gate hides every
chart and computed sentence until the student reveals, then shows them all with the verdict."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from core import phase
from core import predict as P
from core.config import ExperimentConfig
from core.train import run_experiment
from analysis.depth import input_moments

from tests.apptest_util import english_left, open_page, share_link


def _in_option(i: int, log10: float) -> bool:
    lo = P.DECADES[i][0]
    hi = P.DECADES[i - 1][0] if i > 0 else math.inf
    return lo <= log10 < hi


# ------------------------------------------------------------------------------------------- the scale
@pytest.mark.parametrize(
    ("ratio", "option"),
    [(10**0.5, 0), (10**0.5 * (1 - 1e-12), 1), (1.0, 1), (10**-0.5, 1), (0.1, 2), (0.01, 3), (10**-2.5, 3),
     (1e-3, 4), (10**-6.5, 4), (1e-7, 5), (1.7e-12, 5), (0.0, 5), (1e300, 0)],
)  # fmt: skip
def test_decade_ends_are_half_open(ratio, option):
    assert P.decade(ratio) == option


# -------------------------------------------------------------------------------------------- depth
DEPTH_CASES = [
    dict(schemes=("normal",), weight_std=0.01, depth=10, width=64, activation="tanh"),
    dict(schemes=("normal",), weight_std=1.0, depth=10, width=64, activation="tanh"),
    dict(schemes=("xavier_normal",), depth=10, width=64, activation="tanh"),
    dict(schemes=("xavier_normal",), depth=30, width=64, activation="relu"),
    dict(schemes=("he_normal",), depth=30, width=64, activation="relu"),
    dict(schemes=("standard_uniform",), depth=10, width=64, activation="tanh"),
    dict(schemes=("he_normal",), depth=20, width=32, activation="relu", scale=3.0),
    dict(schemes=("zeros",), depth=5, width=16, activation="tanh"),
    dict(schemes=("lecun_normal",), depth=6, width=32, activation="linear", scale=0.3),
    dict(schemes=("orthogonal",), depth=4, width=32, activation="sigmoid", gain="auto"),
]


@pytest.mark.parametrize(
    "case", DEPTH_CASES, ids=lambda c: f"{c['schemes'][0]}-{c['activation']}-{c['depth']}"
)
def test_depth_questions_select_the_measured_decade(case):
    cfg = ExperimentConfig(steps=0, batch_size=256, **case)
    rec = run_experiment(cfg)[cfg.schemes[0]]
    _, input_std = input_moments(cfg)
    L = cfg.depth
    signal = rec.layer_stats["act_std"][0, L - 1] / input_std
    q = P.depth_signal(rec, input_std)
    lg = math.log10(signal) if signal > 0 else -math.inf
    assert [i for i in range(len(P.DECADES)) if _in_option(i, lg)] == sorted(q.correct)
    b = rec.layer_stats["backprop_std"][0]
    g = P.depth_gradient(rec)
    lg = math.log10(b[0] / b[L]) if b[0] > 0 else -math.inf
    assert [i for i in range(len(P.DECADES)) if _in_option(i, lg)] == sorted(g.correct)
    assert P.ratio_text(signal) in q.truth


def test_depth_verdict_counts_the_orders_of_magnitude():
    cfg = ExperimentConfig(schemes=("normal",), weight_std=0.01, depth=10, width=64, batch_size=256, steps=0)
    rec = run_experiment(cfg)["normal"]
    q = P.depth_signal(rec, input_moments(cfg)[1])
    ratio = rec.layer_stats["act_std"][0, 9] / input_moments(cfg)[1]
    assert ratio < 1e-10 and q.correct == {5}
    text = P.verdict(q, 3)  # "about 1 %"
    n = round(-2 - math.log10(ratio))
    assert (
        f"That is about {n} orders of magnitude below what you said." in text and P.ratio_text(ratio) in text
    )
    assert P.verdict(q, 5).startswith("You said *less than a millionth (or exactly 0)*: right.")
    assert P.verdict(q, None).startswith("You did not answer. The signal's std at hidden layer 10 is")


# ----------------------------------------------------------------------------------------- symmetry
@pytest.mark.parametrize(
    ("start", "right"),
    [
        (dict(schemes=("zeros",)), 0),
        (dict(schemes=("constant",), weight_const=0.5), 0),
        (dict(schemes=("normal",), weight_std=0.01), 2),
        (dict(schemes=("zeros",), bias_init="normal", bias_value=0.1), None),  # computed from the records
        (dict(schemes=("he_normal",), scale=30.0, lr=10.0, activation="relu"), None),  # diverges
    ],
)
def test_symmetry_question_counts_the_distinct_units(start, right):
    cfg = ExperimentConfig(depth=2, width=16, optimizer="momentum", steps=150, **start)
    rec = run_experiment(cfg)[cfg.schemes[0]]
    q = P.symmetry(rec)
    n = int(rec.symmetry["distinct"][-1, 0])
    want = 0 if n == 1 else 2 if n == 16 else 1
    assert q.correct == {want}
    if right is not None:
        assert want == right
    assert f"Hidden layer 1 has {n} distinct unit{'' if n == 1 else 's'} of 16" in q.truth
    assert ("all of them are still copies of one" in q.truth) == (n == 1)  # never "1 unit is different"
    assert f"After {int(rec.stat_steps[-1])} steps" in q.prompt


def test_symmetry_a_few_distinct_units_is_the_middle_option():
    rec = run_experiment(ExperimentConfig(depth=1, width=8, steps=10, schemes=("zeros",)))["zeros"]
    for n, want in ((1, 0), (2, 1), (7, 1), (8, 2)):
        distinct = rec.symmetry["distinct"].copy()
        distinct[-1, 0] = n
        fake = dataclasses.replace(rec, symmetry={**rec.symmetry, "distinct": distinct})
        assert P.symmetry(fake).correct == {want}


# ----------------------------------------------------------------------------------------- training
def test_training_questions_follow_the_final_losses_with_ties_and_divergence():
    cfg = ExperimentConfig(
        schemes=("zeros", "constant", "normal", "xavier_uniform", "he_normal"), weight_const=0.0, steps=120
    )
    recs = list(run_experiment(cfg).values())
    final = [float(r.train_loss[-1]) for r in recs]
    assert final[0] == final[1]  # a constant 0 start is the zeros start: a tie
    low = P.training_lowest(recs)
    assert low.correct == {int(np.argmin(final))}
    never = P.training_never(recs)
    assert never.correct == {i for i, r in enumerate(recs) if r.train_loss[-1] > 0.99 * r.train_loss[0]}
    assert {0, 1} <= never.correct  # zeros and constant 0 never learn: both are right
    # a tie for the lowest: both tied starts are right
    tied = P.training_lowest([recs[0], recs[1]])
    assert tied.correct == {0, 1}
    # a diverged start is never the lowest, and it never learns
    big = ExperimentConfig(
        schemes=("normal", "xavier_uniform"), activation="relu", weight_std=3.0, depth=10, steps=60
    )
    brecs = list(run_experiment(big).values())
    assert brecs[0].diverged_at is not None
    assert brecs[1].diverged_at is None
    assert 0 in P.training_never(brecs).correct and P.training_lowest(brecs).correct == {1}


def test_none_of_them_never_learns():
    recs = list(run_experiment(ExperimentConfig(schemes=("xavier_uniform", "he_normal"), steps=200)).values())
    q = P.training_never(recs)
    assert q.correct == {2} and q.options[2].startswith("none of them")


# -------------------------------------------------------------------------------------------- phase
@pytest.mark.parametrize(
    ("ratio", "diverged", "trains"),
    [(0.1, False, True), (phase.TRAINED_BELOW, False, False), (phase.TRAINED_BELOW * (1 - 1e-12), False, True),
     (0.9, False, False), (0.1, True, False)],
)  # fmt: skip
def test_phase_question_uses_the_pages_criterion(ratio, diverged, trains):
    q = P.phase_cell(1.5, 20, ratio, diverged, phase.TRAINED_BELOW)
    assert q.correct == {0 if trains else 1}


# ------------------------------------------------------------------------- normalization and residuals
def _modern(part, **changes):
    from core.modern import run_modern
    from analysis import modern as fm

    base = ExperimentConfig(**fm.DEFAULTS, **fm.FIXED).replace(**changes)
    p = getattr(fm, part)
    return run_modern(p.configs(base)), p.labels


@pytest.mark.parametrize("const", [0.5, -0.3])
def test_modern_symmetry_counts_the_batchnorm_networks_distinct_units(const):
    records, labels = _modern("SYMMETRY", weight_const=const)  # the part trains 300 steps
    q = P.modern_symmetry(records, labels)
    bn = next(r for r in records if r.config.norm == "batch")
    n = int(bn.layer_stats["distinct"][-1].max())
    assert n == 1 and q.correct == {0}  # normalizing identical units gives identical units
    assert f"has 1 distinct unit of {bn.config.width} after 300 steps" in q.truth


def test_modern_symmetry_a_few_or_all_units_from_the_records():
    records, labels = _modern("SYMMETRY")
    bn = next(r for r in records if r.config.norm == "batch")
    K = bn.config.width
    for n, want in ((1, 0), (2, 1), (K - 1, 1), (K, 2)):
        d = bn.layer_stats["distinct"].copy()
        d[-1] = 1
        d[-1, -1] = n  # the most varied layer decides
        fake = dataclasses.replace(bn, layer_stats={**bn.layer_stats, "distinct": d})
        assert P.modern_symmetry([fake], ["x"]).correct == {want}
    assert P.modern_symmetry([r for r in records if r.config.norm != "batch"], ["x"]) is None


def test_modern_race_selects_the_lowest_final_loss_with_ties_and_divergence():
    records, labels = _modern("RACE", steps=60)
    q = P.modern_race(records, labels)
    final = [math.inf if r.diverged_at is not None else float(r.train_loss[-1]) for r in records]
    assert q.correct == {int(np.argmin(final))} and q.options == tuple(labels)
    diverged = [i for i, r in enumerate(records) if r.diverged_at is not None]
    assert diverged and not (set(diverged) & q.correct)  # residual with alpha = 1 at depth 50 diverges
    best = labels[int(np.argmin(final))]
    assert P.numbers.num(min(final), 4) in q.truth and q.truth.startswith(best[:1].upper() + best[1:])
    # a tie: the same record twice, both right; every network diverged: no question
    tie = P.modern_race([records[min(q.correct)]] * 2, ["a", "b"])
    assert tie.correct == {0, 1} and tie.truth.startswith("A and b end lowest")  # upper-case: a sentence
    assert P.modern_race([records[i] for i in diverged], [labels[i] for i in diverged]) is None


# ---------------------------------------------------------------------------------------- the Phase cell
SWS, DPS = [0.25, 0.3536, 0.5, 0.7071, 1.0, 1.414, 2.0, 2.828, 4.0], [2, 6, 10, 20, 35, 50]


@pytest.mark.parametrize(
    ("values", "cell"),
    [([], (1.0, 20, "")), (["1.414,20"], (1.414, 20, "")), (["1.4142,35"], (1.414, 35, "")),
     (["1.5,20"], (1.414, 20, "nearest")), (["100,300"], (4.0, 50, "nearest")), (["0.001,0"], (0.25, 2, "nearest")),
     (["2,21"], (2.0, 20, "nearest")), (["abc"], (1.0, 20, "invalid")), (["1.4"], (1.0, 20, "invalid")),
     (["-1,20"], (1.0, 20, "invalid")), (["nan,20"], (1.0, 20, "invalid")), (["1,2,3"], (1.0, 20, "invalid")),
     (["1,20", "2,20"], (1.0, 20, "invalid"))],
)  # fmt: skip
def test_the_cell_key_is_validated_and_clamped_to_the_grid(values, cell):
    from ui.predict import parse_cell

    assert parse_cell(values, SWS, DPS) == cell


def test_the_phase_question_asks_about_the_teachers_cell_and_the_link_keeps_it():
    at = open_page("phase", {"predict": "1", "cell": "2.828,35"}, timeout=300)
    assert not at.exception
    (radio,) = [r for r in at.radio if (r.key or "").startswith("predict_phase_")]
    assert radio.label.startswith("Will the network with σ_w = 2.83 and 35 hidden layers train")
    assert "cell=2.828%2C35" in share_link(at) and "predict=1" in share_link(at)
    assert not [w for w in at.warning if "cell" in w.value]
    at.selectbox(key="predict_depth").set_value(6).run()
    assert "cell=2.828%2C6" in share_link(at) and at.query_params["cell"] in ("2.828,6", ["2.828,6"])
    radio = [r for r in at.radio if (r.key or "").startswith("predict_phase_")][0]
    assert "and 6 hidden layers" in radio.label
    # without prediction the link carries no cell
    off = open_page("phase", {"cell": "2.828,35"}, timeout=300)
    assert "cell=" not in share_link(off)


@pytest.mark.parametrize(
    ("cell", "note", "asked"),
    [("9,300", "is not a cell of this grid; the question asks about the nearest one, σ_w = 4 with 50",
      "σ_w = 4 and 50 hidden"),
     ("<b>x", "is not a cell: write it as σ_w and hidden layers, e.g. `cell=1,20`", "σ_w = 1 and 20 hidden")],
)  # fmt: skip
def test_a_bad_cell_gets_a_notice_and_the_nearest_or_middle_cell(cell, note, asked):
    at = open_page("phase", {"predict": "1", "cell": cell}, timeout=300)
    assert not at.exception
    notes = [w.value for w in at.warning if w.value.startswith("**cell**")]
    assert len(notes) == 1 and note in notes[0] and "<b>" not in notes[0]
    radio = [r for r in at.radio if (r.key or "").startswith("predict_phase_")][0]
    assert asked in radio.label


# ------------------------------------------------------------------------------------- the gate (AppTest)
def _charts(at) -> int:
    return len(at.get("plotly_chart"))


PAGES = [
    ("symmetry", {}),
    ("depth", {}),
    ("training", {"steps": "100"}),
    ("phase", {}),
    ("modern", {"steps": "50"}),
]


@pytest.mark.parametrize(("page", "query"), PAGES, ids=[p for p, _ in PAGES])
def test_gate_hides_every_chart_until_reveal_then_shows_all(page, query):
    plain = open_page(page, query, timeout=300)
    n_charts, n_metrics = _charts(plain), len(plain.metric)
    assert n_charts >= 1
    at = open_page(page, {**query, "predict": "1"}, timeout=300)
    assert not at.exception
    radios = [r for r in at.radio if (r.key or "").startswith(f"predict_{page}_")]
    assert radios and all(r.value is None for r in radios)
    assert _charts(at) == 0 and len(at.metric) == 0 and not at.success
    # the answer can change before reveal
    radios[0].set_value(1).run()
    radios = [r for r in at.radio if (r.key or "").startswith(f"predict_{page}_")]
    radios[0].set_value(0).run()
    assert _charts(at) == 0
    at.button(key=f"predict_reveal_{page}").click().run()
    assert not at.exception
    assert _charts(at) == n_charts and len(at.metric) == n_metrics
    verdicts = [m.value for m in (*at.success, *at.info) if m.value.startswith("You ")]
    assert verdicts and verdicts[0].startswith("You said *")
    assert "predict=1" in share_link(at)


@pytest.mark.parametrize(("page", "query"), PAGES, ids=[p for p, _ in PAGES])
def test_a_gated_page_still_shows_the_share_box_and_its_checkbox(page, query):
    """Before the reveal (no chart yet), the teacher sees the share link with predict=1 and the checkbox,
    ticked; unticking it takes predict=1 out of the link and shows the charts."""
    at = open_page(page, {**query, "predict": "1"}, timeout=300)
    assert not at.exception
    assert [b for b in at.button if b.key == f"predict_reveal_{page}"], "the page is not gated"
    assert _charts(at) == 0
    assert "predict=1" in share_link(at)
    (box,) = [c for c in at.checkbox if c.key == "predict_option"]
    assert box.value is True
    box.uncheck().run()
    assert not at.exception
    assert "predict=1" not in share_link(at) and _charts(at) > 0
    assert len([c for c in at.checkbox if c.key == "predict_option"]) == 1


@pytest.mark.parametrize(("page", "query"), [("depth", {}), ("symmetry", {}), ("modern", {"steps": "50"})])
def test_the_gate_in_german_asks_and_answers_with_no_english_sentence(page, query):
    """The question, its options, the buttons, the share box's checkbox and the verdicts: all German (the
    rest of each lesson is its own page's text)."""
    at = open_page(page, {**query, "predict": "1", "lang": "de"}, timeout=300)
    assert not at.exception
    (box,) = [c for c in at.checkbox if c.key == "predict_option"]
    radios = [r for r in at.radio if (r.key or "").startswith(f"predict_{page}_")]
    (reveal,) = [b for b in at.button if b.key == f"predict_reveal_{page}"]
    asked = [
        box.label,
        box.help or "",
        reveal.label,
        *[m.value for m in at.markdown if "vorhersagen" in m.value],
    ]
    asked += [t for r in radios for t in (r.label, *map(str, r.options))]
    assert box.label == "Studierende sagen zuerst vorher" and reveal.label == "Ergebnis aufdecken"
    assert "**Dieses Experiment teilen**" in [m.value for m in at.markdown]
    assert english_left(asked) == [] and english_left(at) == []  # the gate's texts, then the whole page
    radios[0].set_value(0).run()
    at.button(key=f"predict_reveal_{page}").click().run()
    verdicts = [m.value for m in (*at.success, *at.info) if m.value.startswith("Sie ")]
    assert len(verdicts) == len(radios) and verdicts[0].startswith("Sie sagten *")
    assert english_left(verdicts) == [] and english_left(at) == []


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Hidden layer 1 has 1 distinct unit of 16: all of them are still copies of one."),
        (
            "de",
            "Die verborgene Schicht 1 hat 1 verschiedenes Neuron von 16: Alle sind noch Kopien eines einzigen.",
        ),
    ],
)
def test_the_symmetry_verdict_on_the_page_says_every_unit_is_still_a_copy(lang, said):
    """The default start (every weight 0.5) keeps all 16 units of hidden layer 1 identical: the verdict says
    so, never "1 of its 16 units is different", which read as one unit standing out."""
    at = open_page("symmetry", {"predict": "1", "lang": lang}, timeout=300)
    (radio,) = [r for r in at.radio if (r.key or "").startswith("predict_symmetry_")]
    radio.set_value(0).run()
    at.button(key="predict_reveal_symmetry").click().run()
    (verdict,) = [m.value for m in at.success if m.value.startswith(("You ", "Sie "))]
    assert said in verdict
    assert "is different" not in verdict and "ist verschieden" not in verdict


def test_checkbox_puts_predict_in_the_link_and_no_notice():
    at = open_page("depth", {})
    assert "predict=1" not in share_link(at)
    at.checkbox(key="predict_option").check().run()
    assert "predict=1" in share_link(at) and _charts(at) == 0
    at2 = open_page("depth", {"predict": "1"})
    assert not [w for w in at2.warning if "could not be used" in w.value]


def test_reveal_without_answering_says_so():
    at = open_page("depth", {"predict": "1"})
    at.button(key="predict_reveal_depth").click().run()
    assert [m.value for m in at.info if m.value.startswith("You did not answer.")]
    assert _charts(at) > 0


# ------------------------------------------------------------------------------------------- browser
def test_browser_predict_then_see(app_url, context, artifacts):
    from tests.browser_util import error_texts, screenshot
    from tests.browser_util import open_page as open_browser_page

    page = context.new_page()
    open_browser_page(page, f"{app_url}/depth?predict=1", charts=False)
    page.get_by_text("Reveal the result").wait_for(timeout=300_000)  # the page trains first
    assert page.locator(".js-plotly-plot").count() == 0
    page.get_by_text("about 1 %").first.click()
    screenshot(page, artifacts / "predict-asked.png")
    page.get_by_text("Reveal the result").click()
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3")
    body = page.inner_text("body")
    assert (
        "You said about 1 %, but the answer was" in body and "orders of magnitude below what you said" in body
    )
    assert error_texts(page) == []
    screenshot(page, artifacts / "predict-revealed.png")
