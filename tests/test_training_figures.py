"""Unit tests of figures/training.py: the plotted numbers are the record's numbers, and the sentences say them.

Records here are built by hand with known values (the page tests use real training runs).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.config import ExperimentConfig
from core.records import HISTOGRAMS, LAYER_STATS, SYMMETRY_STATS, Histogram, RunRecord
from analysis import training as an
from analysis import training_sentences as say
from core.initializers import scheme_label
from figures import training as ft


def make_record(
    scheme: str,
    *,
    steps: int = 20,
    every: int = 5,
    n_layers: int = 3,
    k: int = 3,
    loss0: float = math.log(3),
    decay: float = 0.1,
    grad_scale: float = 1e-2,
    zero_grad_layers: tuple[int, ...] = (),
    diverged_at: int | None = None,
) -> RunRecord:
    """A record with a known exponential loss curve and known gradient histograms."""
    s = np.arange(steps)
    loss = loss0 * np.exp(-decay * s)
    eval_steps = np.arange(0, steps + 1, every)
    train_loss = loss0 * np.exp(-decay * eval_steps)
    test_loss = 1.1 * train_loss
    acc = 1.0 - 0.5 * np.exp(-decay * eval_steps)
    if diverged_at is not None:
        loss[diverged_at:] = np.nan
        loss[diverged_at - 1] = 1e6
        after = eval_steps >= diverged_at
        train_loss[after] = test_loss[after] = acc[after] = np.nan
    R = len(eval_steps)
    stats = {}
    for name in LAYER_STATS:
        stats[name] = np.ones((R, n_layers))
    # grad norm of layer j at step t: grad_scale * 10**j * (t + 1); update ratio 1e-3 * (j + 1)
    stats["grad_norm"] = grad_scale * (10.0 ** np.arange(n_layers))[None, :] * (eval_steps[:, None] + 1.0)
    stats["grad_norm"][:, list(zero_grad_layers)] = 0.0
    stats["update_ratio"] = 1e-3 * np.tile(np.arange(1, n_layers + 1, dtype=float), (R, 1))
    sym = {name: np.ones((R, n_layers - 1)) for name in SYMMETRY_STATS}
    hist_steps = np.array([0, steps // 2, steps])
    edges = np.linspace(-8.0, 2.0, 21)  # log10|value| bins of width 0.5
    hists = {}
    for name in HISTOGRAMS:
        counts = np.zeros((3, n_layers, 20), dtype=np.int64)
        zeros = np.zeros((3, n_layers), dtype=np.int64)
        for c in range(3):
            for j in range(n_layers):
                # 100 entries of layer j at checkpoint c sit in bin 4 + 2j + c (log10 centre -5.75 + j + c/2)
                if j in zero_grad_layers and name == "grad":
                    zeros[c, j] = 100
                else:
                    counts[c, j, 4 + 2 * j + c] = 100
        hists[name] = Histogram(
            edges=edges, counts=counts, transform="log10abs", zeros=zeros, clipped=np.zeros_like(zeros)
        )
    conf = np.diag(np.full(k, 10)).astype(np.int64)
    conf[0, 1] = 5
    g = 8
    return RunRecord(
        scheme=scheme,
        config=ExperimentConfig(schemes=(scheme,), steps=steps, record_every=every),
        sizes=(2,) + (4,) * (n_layers - 1) + (k,),
        loss=loss,
        eval_steps=eval_steps,
        train_loss=train_loss,
        test_loss=test_loss,
        train_acc=acc,
        test_acc=acc - 0.05,
        stat_steps=eval_steps,
        layer_stats=stats,
        symmetry=sym,
        hist_steps=hist_steps,
        hists=hists,
        weight_snapshots=(),
        final_weights=(),
        final_biases=(),
        confusion=conf,
        boundary=(np.arange(g * g).reshape(g, g) % k),
        boundary_prob=np.ones((g, g)),
        boundary_extent=(-2.0, 2.0, -1.5, 1.5),
        diverged_at=diverged_at,
        divergence="" if diverged_at is None else f"the loss became inf at step {diverged_at}",
        batch_digest="abc",
        seconds=0.01,
    )


@pytest.fixture
def pair():
    return [
        make_record("zeros", decay=0.0, zero_grad_layers=(0, 1)),
        make_record("xavier_uniform", decay=0.1, grad_scale=1e-2),
    ]


def test_loss_figure_plots_the_records_losses(pair):
    fig = ft.loss_figure(pair, {"zeros": "#000000", "xavier_uniform": "#56B4E9"})
    traces = [
        t for t in fig.data if t.showlegend is not False
    ]  # one legend entry per scheme: the train curve
    assert [t.name for t in traces] == [an.run_label(r) for r in pair]
    for t, r in zip(traces, pair):
        np.testing.assert_array_equal(np.asarray(t.y), r.loss)
        np.testing.assert_array_equal(np.asarray(t.x), np.arange(len(r.loss)))
    test = [t for t in fig.data if t.name.endswith("test")]
    np.testing.assert_array_equal(np.asarray(test[1].y), pair[1].test_loss)
    np.testing.assert_array_equal(np.asarray(test[1].x), pair[1].eval_steps)
    assert test[1].line.dash == "dash"
    assert traces[0].line.color == "#000000" and traces[1].line.color == "#56B4E9"
    assert fig.layout.yaxis.type != "log"
    log = ft.loss_figure(pair, log_y=True).layout.yaxis
    assert log.type == "log"
    # the axis holds every loss of both runs
    lo = min(float(np.min(r.loss[r.loss > 0])) for r in pair)
    assert 10 ** log.range[0] < lo and 10 ** log.range[1] > math.log(3)


def test_diverged_run_gets_a_marker_and_the_others_still_plot():
    recs = [make_record("normal", diverged_at=8), make_record("he_normal")]
    fig = ft.loss_figure(recs)
    marker = [t for t in fig.data if t.name.endswith("diverged")]
    assert len(marker) == 1
    assert list(marker[0].x) == [8]
    # the last finite loss is 1e6 (step 7): the axis does not stretch to it, the marker sits at its top
    top = fig.layout.yaxis.range[1]
    assert top < 2 and marker[0].y[0] == top
    assert "reached a loss of 10⁶" in say.loss_axis_note(recs)
    assert say.loss_axis_note(recs[1:]) == ""
    he = [t for t in fig.data if t.name == scheme_label("he_normal")][0]
    assert np.isfinite(np.asarray(he.y)).all()
    sentences = say.divergence_sentences(recs)
    assert len(sentences) == 1 and "the loss became inf at step 8" in sentences[0]
    assert sentences[0].startswith("**Normal (fixed σ), σ = 0.01 diverged.**")
    assert "diverged at step 8" in say.loss_sentence(recs)
    table = an.results_table(recs, 0.5)
    assert table["diverged at step"].tolist() == ["8", "no"]  # words, never a raw None
    assert math.isnan(table.loc[0, "final test loss"])  # no final value for a run that stopped
    # the JSON the browser gets has no inf/NaN tokens that break it
    fig.to_json()


def test_loss_sentence_says_chance_and_final_numbers(pair):
    s = say.loss_sentence(pair)
    assert "ln 3 = 1.10" in s
    assert f"Zeros: still {an.fmt(math.log(3))} after 20 steps (no learning)" in s
    assert s.startswith("Train loss on the whole train split, start → after 20 steps — Xavier")  # best first
    final = pair[1].train_loss[-1]
    assert an.fmt(final) in s


def test_loss_sentence_at_initialization_and_at_chance():
    r0 = make_record("he_normal", steps=0, every=1)
    assert say.loss_sentence([r0]).startswith(
        "Train loss on the whole train split at initialization (0 steps)"
    )
    # moved from 2.41 to ln 10: it learned the class frequencies, nothing more
    r = make_record("orthogonal", k=10, loss0=2.41, decay=0.0)
    r.train_loss[-1] = math.log(10)
    assert "Orthogonal: 2.41 → 2.30 (chance level)" in say.loss_sentence([r])


def test_accuracy_figure_values(pair):
    fig = ft.accuracy_figure(pair)
    t = [t for t in fig.data if t.name.endswith("test")][1]
    np.testing.assert_allclose(np.asarray(t.y), pair[1].test_acc)


def test_hist_fractions_and_median():
    r = make_record("he_normal")
    centres, frac, zero = an.hist_fractions(r.hists["grad"], 1)
    assert frac.shape == (3, 20)
    np.testing.assert_allclose(frac.sum(axis=1), 1.0)
    assert frac[2, 4 + 4 + 1] == 1.0
    med = an.hist_median(r.hists["grad"], 1)
    # layer j at checkpoint 1 sits in bin 5 + 2j, centre -8 + 0.5 * (5 + 2j) + 0.25
    np.testing.assert_allclose(np.log10(med), [-5.25, -4.25, -3.25])
    # exact zeros do not pull the median down: it is the median of the gradients that flow
    z = make_record("zeros", zero_grad_layers=(0,))
    med = an.hist_median(z.hists["grad"], 1)
    assert np.isnan(med[0]) and np.log10(med[1]) == -4.25


def test_ridgeline_plots_fractions_of_the_picked_checkpoint(pair):
    fig = ft.ridgeline_figure(pair, checkpoint=2, kind="grad")
    # one filled trace per scheme, one closed segment (split by a gap) per layer: 3 layers
    ridges = [t for t in fig.data if t.fill == "toself"]
    assert len(ridges) == 2
    xav = ridges[1]
    assert xav.name == scheme_label("xavier_uniform")
    y = np.asarray(xav.y, dtype=float)
    segments = np.split(y, np.flatnonzero(np.isnan(y)))
    assert len(segments) == 3 and all(len(s[~np.isnan(s)]) == 40 for s in segments)
    # the output layer is the bottom row (drawn first), layer 1 the top row (base 2, the last segment): its
    # single full bin is bin 4 + 2
    top = segments[-1][~np.isnan(segments[-1])][:20] - 2.0
    assert np.argmax(top) == 6 and top[6] > 0 and np.count_nonzero(top) == 1
    assert xav.text[0].endswith("output layer") and xav.text[-1].endswith("layer 1")
    assert "step 20" in fig.layout.title.text
    # zero-gradient layers of `zeros` are labelled, not drawn as a bump
    texts = [a.text for a in fig.layout.annotations]
    assert texts.count("100\u00a0% exactly 0") == 2


def test_ridgeline_picks_evenly_spaced_layers_when_deep():
    assert an.ridge_layers(5) == [0, 1, 2, 3, 4]
    layers = an.ridge_layers(31)
    assert layers[0] == 0 and layers[-1] == 30 and len(layers) <= an.MAX_RIDGES


def test_hist_sentences(pair):
    s = say.hist_sentence(pair, 0)
    assert s.startswith("At step 0, the typical size")
    # zeros: layers 1 and 2 have only exact zeros, the output layer's median is 10^(-8 + 0.5 * 8 + 0.25)
    assert "Zeros: exactly 0 in layer 1, 1.8×10⁻⁴ in the output layer (exactly 0 in layer 1, layer 2)" in s
    assert "67\u00a0% of all entries are exactly 0" in s
    assert "Xavier (Glorot) uniform: 1.8×10⁻⁶ in layer 1, 1.8×10⁻⁴ in the output layer." in s
    same = [make_record("xavier_uniform"), make_record("he_normal")]
    assert say.scheme_gap_sentence(same, 0) == ""  # equal medians: no gap is claimed
    far = [make_record("xavier_uniform"), make_record("he_normal")]
    far[1].hists["grad"].counts[:] = np.roll(far[1].hists["grad"].counts, 8, axis=2)  # 4 decades larger
    gap = say.scheme_gap_sentence(far, 0)
    assert gap.startswith(
        "Layer by layer, the typical gradient of He (Kaiming) normal is 10,000 times that of"
    )
    assert "With SGD and one learning rate" in gap


def test_grad_norm_heatmap_is_log10_of_the_record(pair):
    fig = ft.grad_norm_heatmap(pair)
    hm = fig.data[1]
    assert not [a.text for a in fig.layout.annotations if "exactly 0" in a.text]
    frozen = ft.grad_norm_heatmap([make_record("zeros", zero_grad_layers=(0, 1, 2)), pair[1]])
    assert [a.text for a in frozen.layout.annotations if "exactly 0" in a.text] == [
        "every gradient<br>is exactly 0"
    ]
    expected = np.log10(pair[1].layer_stats["grad_norm"]).T
    np.testing.assert_allclose(np.asarray(hm.z, dtype=float), expected)
    # zero gradients (zeros, layers 1-2) are blank, not -inf
    z0 = np.asarray(fig.data[0].z, dtype=float)
    assert np.isnan(z0[:2]).all() and np.isfinite(z0[2]).all()
    assert "Zeros: exactly zero gradient in layer 1, layer 2;" in say.grad_norm_sentence(pair)
    assert "layer 1 gets 0.01× the output layer's gradient norm" in say.grad_norm_sentence(pair[1:])


def test_update_ratio_has_reference_line_and_record_values(pair):
    fig = ft.update_ratio_figure(pair)
    lines = [t for t in fig.data if t.name.startswith(scheme_label("xavier_uniform"))]
    assert len(lines) == 3
    np.testing.assert_allclose(np.asarray(lines[2].y), 3e-3)
    assert any(s.y0 == an.UPDATE_RATIO_RULE for s in fig.layout.shapes)
    s = say.update_ratio_sentence(pair[1:])
    assert "0.001 (layer 1) to 0.003 (output layer)" in s


def test_boundary_and_confusion(pair):
    fig = ft.boundary_figure(pair, X=np.zeros((4, 2)), y=np.array([0, 1, 2, 0]))
    hm = [t for t in fig.data if t.type == "heatmap"]
    np.testing.assert_array_equal(np.asarray(hm[0].z), pair[0].boundary)
    best, worst = an.best_and_worst(pair)
    assert best.scheme == worst.scheme or an.final_value(best, "test_acc") >= an.final_value(
        worst, "test_acc"
    )
    cm = ft.confusion_figure([best, worst])
    np.testing.assert_array_equal(np.asarray(cm.data[0].z), best.confusion)


def test_results_and_per_step_tables(pair):
    t = an.results_table(pair, 0.5)
    assert list(t["scheme"]) == ["zeros", "xavier_uniform"]
    assert t.loc[1, "final train loss"] == pair[1].train_loss[-1]
    # xavier: ln3 * exp(-0.1 s) <= 0.5 first at s = 8 -> first evaluation at 10
    assert t["steps to train loss ≤ 0.5"].tolist() == ["not reached", "10"]
    assert say.target_sentence(pair, 0.5) == (
        "Train loss ≤ 0.5 first reached by Xavier (Glorot) uniform at step 10; "
        "Zeros does not reach train loss ≤ 0.5 within 20 steps."
    )
    long = an.per_step_table(pair)
    assert len(long) == 2 * 21
    x = long[long.scheme == "xavier_uniform"].set_index("step")
    assert x.loc[7, "batch loss"] == pair[1].loss[7]
    assert x.loc[10, "train loss"] == pair[1].train_loss[2]
    assert math.isnan(x.loc[7, "train loss"])
    assert x.loc[15, "gradient norm layer 3"] == pair[1].layer_stats["grad_norm"][3, 2]
