"""Unit tests of figures/depth.py: the plotted numbers are the record's numbers, the sentences are computed.

Records here are built by hand (small, exact) so every expected number is known; the page tests use real runs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.config import ExperimentConfig
from core.records import Histogram, RunRecord
from analysis import depth as ad
from figures import depth as fd


def make_record(
    L: int = 4,
    act_std: np.ndarray | None = None,
    backprop_std: np.ndarray | None = None,
    saturation: np.ndarray | None = None,
    dead: np.ndarray | None = None,
    transform: str = "linear",
    activation: str = "tanh",
    B: int = 8,
    seed: int = 0,
) -> RunRecord:
    """A RunRecord with two stat steps (0, 10) and two checkpoints, numbers chosen by the caller or seeded."""
    rng = np.random.default_rng(seed)
    n = L + 1
    steps = np.array([0, 10])
    nan = np.full((2, n), np.nan)

    def stat(v):
        return np.asarray(v, dtype=float) if v is not None else rng.uniform(0.1, 1.0, (2, n))

    layer_stats = {
        k: rng.uniform(0.1, 1.0, (2, n))
        for k in ("act_mean", "pre_std", "weight_std", "grad_std", "grad_norm", "update_ratio")
    }
    layer_stats["act_std"] = stat(act_std)
    layer_stats["backprop_std"] = stat(backprop_std)
    layer_stats["saturation"] = nan.copy() if saturation is None else np.asarray(saturation, float)
    layer_stats["dead"] = nan.copy() if dead is None else np.asarray(dead, float)
    edges = np.linspace(-1, 1, B + 1) if transform == "linear" else np.linspace(-12, 2, B + 1)

    def hist():
        counts = rng.integers(0, 50, (2, n, B))
        return Histogram(
            edges=edges,
            counts=counts,
            transform=transform,
            zeros=rng.integers(0, 5, (2, n)),
            clipped=np.zeros((2, n), int),
        )

    config = ExperimentConfig(depth=L, width=16, activation=activation)
    return RunRecord(
        scheme="xavier_normal",
        config=config,
        sizes=tuple([2] + [16] * L + [3]),
        loss=np.ones(10),
        eval_steps=steps,
        train_loss=np.ones(2),
        test_loss=np.ones(2),
        train_acc=np.zeros(2),
        test_acc=np.zeros(2),
        stat_steps=steps,
        layer_stats=layer_stats,
        symmetry={},
        hist_steps=steps,
        hists={k: hist() for k in ("act", "pre", "weight", "grad")},
        weight_snapshots=(),
        final_weights=(),
        final_biases=(),
        confusion=np.zeros((3, 3), int),
        boundary=None,
        boundary_prob=None,
        boundary_extent=None,
        diverged_at=None,
        divergence="",
        batch_digest="",
        seconds=0.0,
    )


# ------------------------------------------------------------------------------------------ histograms


def ridge_shares(trace) -> np.ndarray:
    """The unscaled share per bin of one ridge: customdata of each bin's first top corner."""
    return np.asarray(trace.customdata)[1:-1:2, 1]


@pytest.mark.parametrize("kind", ["act", "grad"])
@pytest.mark.parametrize("c", [0, 1])
@pytest.mark.parametrize("transform", ["linear", "log10abs"])
def test_ridgeline_outlines_are_the_recorded_shares(kind, c, transform):
    rec = make_record(L=5, transform=transform)
    fig = fd.histogram_ridgeline(rec, kind, c)
    h = rec.hists[kind]
    n = 5 if kind == "act" else 6  # hidden layers for activations, every weight matrix for gradients
    B = len(h.edges) - 1
    assert len(fig.data) == n  # one outline per layer, not one path per bar
    for j, tr in enumerate(fig.data):
        assert tr.type == "scatter" and tr.fill == "toself"
        total = h.counts[c, j].sum() + (h.zeros[c, j] if h.transform == "log10abs" else 0)
        np.testing.assert_allclose(
            ridge_shares(tr) * total, h.counts[c, j]
        )  # counts per layer = the record's
        cd = np.asarray(tr.customdata)
        np.testing.assert_allclose(cd[1:-1:2, 0], (h.edges[:-1] + h.edges[1:]) / 2)  # hover: the bin centre
        np.testing.assert_allclose(cd[2:-1:2], cd[1:-1:2])  # both top corners of a bin say the same
        # the outline: up at each left edge, across the bin, down to the base at the end; layer 1 on top
        x, y = np.asarray(tr.x), np.asarray(tr.y)
        assert len(x) == 2 * B + 2
        np.testing.assert_allclose(x[1:-1:2], h.edges[:-1])
        np.testing.assert_allclose(x[2:-1:2], h.edges[1:])
        base = n - 1 - j
        assert y[0] == y[-1] == base and x[0] == h.edges[0] and x[-1] == h.edges[-1]
        heights = h.counts[c, j] / h.counts[c, j].max() * fd.RIDGE_HEIGHT  # tallest bin = RIDGE_HEIGHT
        np.testing.assert_allclose(y[1:-1:2] - base, heights)
        np.testing.assert_allclose(y[2:-1:2] - base, heights)
    assert fig.data[0].name == "layer 1"
    assert (fig.data[-1].name == "output") == (kind == "grad")
    assert f"step {rec.hist_steps[c]}" in fig.layout.title.text


def test_log_histogram_axis_and_zeros_in_denominator():
    rec = make_record(L=3, transform="log10abs")
    fig = fd.histogram_ridgeline(rec, "grad", 0)
    assert fig.layout.xaxis.title.text == "log₁₀|value|"
    h = rec.hists["grad"]
    assert ridge_shares(fig.data[0]).sum() == pytest.approx(
        h.counts[0, 0].sum() / (h.counts[0, 0].sum() + h.zeros[0, 0])
    )


def test_all_zero_layer_draws_a_flat_outline():
    rec = make_record(L=2, transform="log10abs")
    h = rec.hists["act"]
    h.counts[0, 1] = 0
    h.zeros[0, 1] = 100  # every activation of layer 2 underflowed to 0
    fig = fd.histogram_ridgeline(rec, "act", 0)
    assert np.all(np.asarray(fig.data[1].y) == 0)


def test_heatmap_rows_are_layers_top_down():
    rec = make_record(L=20)
    fig = fd.histogram_figure(rec, "act", 1)
    assert fig.data[0].type == "heatmap"
    z = np.asarray(fig.data[0].z)
    h = rec.hists["act"]
    totals = h.counts[1, :20].sum(axis=1)  # linear: zeros are already in the bin around 0
    np.testing.assert_allclose(z * totals[:, None], h.counts[1, :20])
    assert list(fig.data[0].y[:2]) == ["layer 1", "layer 2"]
    assert fig.layout.yaxis.autorange == "reversed"
    assert fd.histogram_figure(make_record(L=4), "act", 0).data[0].type == "scatter"


# ------------------------------------------------------------------------------------------ std profile


def test_std_profile_plots_measured_and_predicted_values():
    L = 4
    act = np.array([[0.5, 0.25, 0.125, 0.0625, 9.0], [0.6, 0.3, 0.2, 0.1, 9.0]])
    bp = np.array([[1e-4, 1e-3, 1e-2, 1e-1, 1.0], [2e-4, 2e-3, 0.0, 2e-1, 2.0]])
    rec = make_record(L=L, act_std=act, backprop_std=bp)
    pred = ad.Prediction(
        act_std=np.array([0.4, 0.2, 0.1, 0.05]), grad_std=np.array([1e-5, 1e-4, 1e-3, 1e-2, 1.0])
    )
    fig = fd.std_profile(rec, step=10, prediction=pred, input_std=1.0)
    by = {(t.name, t.xaxis): t for t in fig.data}
    init_fwd = by[("measured at init", "x")]
    assert list(init_fwd.x) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(init_fwd.y, [1.0, 0.5, 0.25, 0.125, 0.0625])  # output layer not drawn
    np.testing.assert_allclose(by[("measured at init", "x2")].y, bp[0])
    np.testing.assert_allclose(by[("mean-field prediction", "x")].y, [1.0, 0.4, 0.2, 0.1, 0.05])
    np.testing.assert_allclose(by[("mean-field prediction", "x2")].y, pred.grad_std)
    later = by[("measured at step 10", "x2")]
    assert later.y[2] is None  # an exact 0 cannot sit on a log axis: a gap, not a fake value
    np.testing.assert_allclose([later.y[i] for i in (0, 1, 3, 4)], bp[1, [0, 1, 3, 4]])
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"


def test_std_profile_at_init_has_no_later_trace():
    rec = make_record(L=3)
    fig = fd.std_profile(rec, step=0, prediction=None, input_std=1.0)
    assert {t.name for t in fig.data} == {"measured at init"}


# ------------------------------------------------------------------------------------------ saturation


def test_saturation_bars_and_dead_bars():
    sat = np.array([[0.9, 0.8, 0.7, np.nan], [0.1, 0.2, 0.3, np.nan]])
    fig = fd.saturation_figure(make_record(L=3, saturation=sat), step=10)
    np.testing.assert_allclose(fig.data[0].y, [0.1, 0.2, 0.3])
    assert list(fig.data[0].x) == [1, 2, 3]
    dead = np.array([[0.0, 0.25, 0.5, np.nan]] * 2)
    fig = fd.saturation_figure(make_record(L=3, dead=dead, activation="relu"), step=0)
    np.testing.assert_allclose(fig.data[0].y, [0.0, 0.25, 0.5])
    assert "dead" in fig.layout.title.text
    fig = fd.saturation_figure(make_record(L=3, activation="linear"), step=0)
    assert len(fig.data) == 0 and "neither saturate nor die" in fig.layout.annotations[0].text


# ------------------------------------------------------------------------------------------ verdicts


def test_fmt_ratio():
    assert ad.fmt_ratio(0.08) == "0.08"
    assert ad.fmt_ratio(1.0e-11) == "10⁻¹¹"
    assert ad.fmt_ratio(2.04e-12) == "2.0×10⁻¹²"
    assert ad.fmt_ratio(3.0e8) == "3.0×10⁸"
    assert ad.fmt_ratio(9.97e-5) == "10⁻⁴"
    assert ad.fmt_ratio(0.0) == "exactly 0"
    assert ad.fmt_ratio(math.inf) == "infinite"


def test_collapse_verdict_numbers():
    L = 10
    stds = 0.08 ** np.arange(1, L + 2)  # ×0.08 per layer from an input of std 1
    act = np.vstack([stds, stds])
    rec = make_record(L=L, act_std=act, backprop_std=np.vstack([stds[::-1]] * 2))
    s = ad.summarize(rec, input_std=1.0)
    assert s.signal_factor == pytest.approx(0.08)
    assert s.signal_ratio == pytest.approx(0.08**10)
    assert s.first_to_last == pytest.approx(0.08**9)
    assert s.grad_ratio == pytest.approx(0.08**10)
    line = ad.signal_verdict(s)
    assert line.startswith("The signal shrinks: its std changes ×0.08 per layer (variance ×0.0064)")
    # the end-to-end ratio over the same layers 1 -> 10 as the factor: 0.08 ** 9
    assert "layer 10's std is 1.3×10⁻¹⁰ × layer 1's" in line
    assert "layer 10's std is 1.1×10⁻¹¹ × the input's" in line
    assert "changes ×0.08 per layer from layer 10 to layer 1" in ad.gradient_verdict(s)


def test_growth_saturation_dead_and_underflow_verdicts():
    L = 3
    grow = np.vstack([[2.0, 4.0, 8.0, 1.0]] * 2)
    assert "grows: its std changes ×2 per layer (variance ×4)" in ad.signal_verdict(
        ad.summarize(make_record(L=L, act_std=grow), 1.0)
    )
    flat = np.vstack([[0.95, 0.95, 0.95, 1.0]] * 2)
    sat = np.vstack([[0.8, 0.9, 0.9, np.nan]] * 2)
    line = ad.signal_verdict(ad.summarize(make_record(L=L, act_std=flat, saturation=sat), 1.0))
    assert "keeps its size" in line and "87\u00a0% of the units are saturated" in line
    dead = np.vstack([[0.2, 0.3, 0.4, np.nan]] * 2)
    line = ad.signal_verdict(ad.summarize(make_record(L=L, act_std=flat, dead=dead, activation="relu"), 1.0))
    assert "30\u00a0% of the units are dead" in line
    under = np.vstack([[1e-3, 0.0, 0.0, 0.0]] * 2)
    assert (
        "from layer 2 on the activations do not vary at all (std exactly 0; the values underflowed)"
        in ad.signal_verdict(ad.summarize(make_record(L=L, act_std=under), 1.0))
    )


def test_payload_counts_json():
    fig = fd.histogram_figure(make_record(L=3), "act", 0)
    assert fd.chart_payload_bytes([fig, fig]) == 2 * len(fig.to_json())
