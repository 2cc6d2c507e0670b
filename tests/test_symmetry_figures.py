"""Unit tests of the Symmetry lesson's figure builders (figures.symmetry) and its numbers and computed sentences
(analysis.symmetry).

Records are built by hand here so every plotted number is known; the page tests train real nets.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.config import ExperimentConfig
from core.records import HISTOGRAMS, LAYER_STATS, DataSplit, Histogram, RunRecord
from analysis import symmetry as an
from core.diagnostics import mean_abs_cosine
from figures import symmetry as fs


def make_record(
    scheme: str = "constant",
    *,
    width: int = 4,
    depth: int = 2,
    k: int = 3,
    steps: int = 20,
    symmetric: bool = True,
    bias_init: str = "zeros",
    seed: int = 0,
) -> RunRecord:
    """A small, internally consistent record: symmetric columns if `symmetric`, else random ones."""
    rng = np.random.default_rng(seed)
    sizes = (2,) + (width,) * depth + (k,)
    eval_steps = np.arange(0, steps + 1, 5)
    R = len(eval_steps)
    hist_steps = np.array([0, steps // 2, steps])
    C = len(hist_steps)

    def weights(c: int) -> tuple[np.ndarray, ...]:
        out = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            if symmetric:
                col = rng.normal(size=(a, 1)) * (c + 1)
                out.append(np.repeat(col, b, axis=1).astype(np.float32))
            else:
                out.append(rng.normal(size=(a, b)).astype(np.float32))
        return tuple(out)

    snaps = tuple(weights(c) for c in range(C))
    distinct = np.full((R, depth), 1.0 if symmetric else float(width))
    cosine = np.full((R, depth), 1.0 if symmetric else 0.1)
    layer_stats = {key: rng.random((R, depth + 1)) for key in LAYER_STATS}
    hist = Histogram(
        edges=np.linspace(-1, 1, 5),
        counts=np.zeros((C, depth + 1, 4), dtype=np.int64),
        transform="linear",
        zeros=np.zeros((C, depth + 1), dtype=np.int64),
        clipped=np.zeros((C, depth + 1), dtype=np.int64),
    )
    G = 7
    boundary = rng.integers(0, k, size=(G, G))
    return RunRecord(
        scheme=scheme,
        config=ExperimentConfig(
            schemes=(scheme,), width=width, depth=depth, steps=steps, bias_init=bias_init
        ),
        sizes=sizes,
        loss=np.linspace(1.1, 0.5, steps),
        eval_steps=eval_steps,
        train_loss=np.linspace(1.1, 0.4, R) + 0.01 * seed,
        test_loss=np.linspace(1.2, 0.5, R),
        train_acc=np.linspace(0.3, 0.9, R),
        test_acc=np.linspace(0.3, 0.8, R),
        stat_steps=eval_steps,
        layer_stats=layer_stats,
        symmetry={"distinct": distinct, "cosine": cosine, "rank": np.ones((R, depth))},
        hist_steps=hist_steps,
        hists={h: hist for h in HISTOGRAMS},
        weight_snapshots=snaps,
        final_weights=tuple(w.astype(np.float64) for w in snaps[-1]),
        final_biases=tuple(np.zeros(b) for b in sizes[1:]),
        confusion=np.zeros((k, k), dtype=np.int64),
        boundary=boundary,
        boundary_prob=rng.uniform(1 / k, 1, size=(G, G)),
        boundary_extent=(-2.0, 2.0, -1.5, 1.5),
        diverged_at=None,
        divergence="",
        batch_digest="x",
        seconds=0.0,
    )


def make_split(k: int = 3, n: int = 30, seed: int = 0) -> DataSplit:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    return DataSplit("spiral", rng.normal(size=(n, 2)), y, rng.normal(size=(n, 2)), y.copy(), k)


@pytest.fixture
def panels() -> list[an.Panel]:
    return [
        an.Panel("Constant", make_record("constant", symmetric=True), "#999999"),
        an.Panel("Xavier", make_record("xavier_uniform", symmetric=False, seed=1), "#56B4E9"),
    ]


def test_loss_figure_plots_the_train_loss_of_each_run(panels):
    fig = fs.loss_figure(panels, baseline=1.0986)
    lines = [t for t in fig.data if t.type == "scatter"]
    assert [t.name for t in lines] == ["Constant", "Xavier"]
    for t, p in zip(lines, panels):
        np.testing.assert_array_equal(np.asarray(t.x), p.record.eval_steps)
        np.testing.assert_allclose(np.asarray(t.y), p.record.train_loss)
        assert t.line.color == p.color
    assert fig.layout.shapes[0].y0 == pytest.approx(1.0986)


def test_distinct_figure_plots_distinct_units_and_abs_cosine_per_layer(panels):
    panels[1].record.symmetry["distinct"][2, 1] = 3.0  # a value the figure must carry through
    fig = fs.distinct_figure(panels)
    assert len(fig.data) == 2 * 2 * 2  # panels x layers x (distinct, cosine)
    by_name = {(t.name, t.xaxis): t for t in fig.data}
    t = by_name[("Xavier, layer 2", "x")]
    np.testing.assert_array_equal(np.asarray(t.x), panels[1].record.stat_steps)
    np.testing.assert_allclose(np.asarray(t.y), panels[1].record.symmetry["distinct"][:, 1])
    assert np.asarray(t.y)[2] == 3.0
    # |cosine| at the checkpoints, from the weight snapshots
    t = by_name[("Xavier, layer 1", "x2")]
    np.testing.assert_array_equal(np.asarray(t.x), panels[1].record.hist_steps)
    snaps = panels[1].record.weight_snapshots
    expected = [mean_abs_cosine(snap[0]) for snap in snaps]
    np.testing.assert_allclose(np.asarray(t.y), expected)
    W = snaps[0][0].astype(np.float64)
    U = W / np.linalg.norm(W, axis=0)
    C = np.abs(U.T @ U)
    assert expected[0] == pytest.approx((C.sum() - 4) / 12)
    t = by_name[("Constant, layer 2", "x2")]
    np.testing.assert_allclose(np.asarray(t.y), 1.0)  # repeated columns are parallel
    assert by_name[("Constant, layer 2", "x")].line.dash == "dash"


def test_weight_heatmap_shows_the_snapshot_matrix(panels):
    fig = fs.weight_heatmap_figure(panels, checkpoint=1, layer=1)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 2
    for t, p in zip(heat, panels):
        np.testing.assert_allclose(np.asarray(t.z), p.record.weight_snapshots[1][1])
        assert list(t.x) == [1, 2, 3, 4]
    # each panel its own symmetric colour scale, centred on 0
    m = float(np.abs(panels[1].record.weight_snapshots[1][1]).max())
    assert fig.layout.coloraxis2.cmax == pytest.approx(m)
    assert fig.layout.coloraxis2.cmin == pytest.approx(-m)
    assert [a.text for a in fig.layout.annotations] == ["Constant", "Xavier"]


def test_weight_heatmap_of_an_all_zero_matrix_has_a_usable_colour_scale(panels):
    rec = panels[0].record
    zero = tuple(tuple(np.zeros_like(w) for w in snap) for snap in rec.weight_snapshots)
    p = an.Panel("Zeros", _replace(rec, weight_snapshots=zero), "#000000")
    fig = fs.weight_heatmap_figure([p, panels[1]], 0, 0)
    assert fig.layout.coloraxis.cmax == 1.0
    assert np.all(np.asarray(fig.data[0].z) == 0.0)


def test_boundary_figure_draws_regions_and_test_points(panels):
    split = make_split()
    fig = fs.boundary_figure(panels, split)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 2
    rec = panels[0].record
    z = np.asarray(heat[0].z)
    np.testing.assert_array_equal(np.floor(z), rec.boundary)  # the predicted class
    conf = (rec.boundary_prob - 1 / 3) / (2 / 3)
    np.testing.assert_allclose(z - rec.boundary, np.clip(conf, 0, 0.999), atol=1e-6)  # float32
    assert np.asarray(heat[0].x)[0] == -2.0 and np.asarray(heat[0].x)[-1] == 2.0
    assert np.asarray(heat[0].y)[0] == -1.5 and np.asarray(heat[0].y)[-1] == 1.5
    pts = [t for t in fig.data if t.type == "scatter" and t.name == "class 1"]
    assert len(pts) == 2
    np.testing.assert_allclose(np.asarray(pts[0].x), split.X_test[split.y_test == 1, 0])


def test_distinct_columns_counts_equal_columns():
    W = np.array([[1.0, 1.0, 2.0, 1.0], [0.5, 0.5, 0.5, 0.5]])
    assert an.distinct_vectors(W) == 2
    assert an.distinct_vectors(np.zeros((3, 5))) == 1
    assert an.distinct_vectors(np.eye(4)) == 4
    assert an.distinct_vectors(W + np.array([0, 1e-9, 0, 0])) == 2  # within tolerance


def test_mean_abs_cosine():
    assert mean_abs_cosine(np.array([[1.0, -2.0, 3.0], [0.0, 0.0, 0.0]])) == pytest.approx(1.0)
    assert mean_abs_cosine(np.eye(3)) == pytest.approx(0.0)
    assert np.isnan(mean_abs_cosine(np.zeros((2, 4))))


def test_baseline_loss_is_the_entropy_of_the_train_splits_class_frequencies():
    from core.data import load

    rec = make_record()
    c = rec.config
    y = load(c.dataset, c.n_samples, c.noise, c.n_classes, c.data_seed).y_train
    p = np.bincount(y) / len(y)
    assert an.baseline_loss(rec) == pytest.approx(-(p * np.log(p)).sum())
    assert an.baseline_loss(rec) == pytest.approx(np.log(3), rel=0.05)  # spiral: three equal classes


def test_distinct_vectors_uses_the_recorders_tolerance_the_page_states():
    """The page's caption: units differ when their distance exceeds 10⁻⁶ of the longest vector."""
    W = np.ones((3, 4))
    W[0, 1] += 2e-6 * np.sqrt(3)
    W[0, 2] += 0.5e-6 * np.sqrt(3)
    assert an.distinct_vectors(W) == 2
    assert an.distinct_vectors(W.astype(np.float32)) == an.distinct_vectors(W)  # counted in float64


def test_symmetry_sentence_counts_from_the_record(panels):
    s = an.symmetry_sentence(panels[0])
    assert "All 4 units of each of the 2 hidden layers are still identical after 20 steps" in s
    s = an.symmetry_sentence(panels[1])
    assert "Every one of the 4 units of every hidden layer is different after 20 steps" in s
    panels[1].record.symmetry["distinct"][-1] = [2.0, 4.0]
    s = an.symmetry_sentence(panels[1])
    assert "Hidden layer 1 started with 4 distinct units of 4 and has 2 after 20 steps" in s


def test_heatmap_sentence_counts_the_shown_columns(panels):
    s = an.heatmap_sentence(panels, 2, 0)
    assert (
        s == "Step 20, hidden layer 1 — Constant: all 4 columns are identical; Xavier: all 4 columns differ."
    )


def test_accuracy_sentence_uses_the_last_test_accuracy(panels):
    s = an.accuracy_sentence(panels, make_split())
    assert (
        s
        == "Test accuracy after 20 steps — Constant: 80\u00a0%; Xavier: 80\u00a0% (always guessing the most frequent class scores 33\u00a0%)."
    )


def test_dead_start_sentence_reports_the_predicted_class_frequencies():
    rec = make_record("zeros")
    rec.layer_stats["grad_norm"][:] = 0.0
    biases = list(rec.final_biases)
    biases[-1] = np.log(np.array([0.5, 0.3, 0.2]))
    weights = list(rec.final_weights)
    weights[-1] = np.zeros_like(weights[-1])
    zero = tuple(tuple(np.zeros_like(w) for w in snap) for snap in rec.weight_snapshots)
    rec = _replace(rec, final_biases=tuple(biases), final_weights=tuple(weights), weight_snapshots=zero)
    s = an.dead_start_sentence(rec, make_split())
    assert s.startswith("With zero weights and tanh, every hidden weight gradient is exactly 0")
    assert "(50\u00a0%, 30\u00a0%, 20\u00a0%)" in s and "are 33\u00a0%, 33\u00a0%, 33\u00a0%" in s
    # the same zero gradients from a start that is not all zeros: only the fact, no class frequencies
    s = an.dead_start_sentence(_replace(rec, weight_snapshots=make_record().weight_snapshots), None)
    assert s.startswith("Every recorded hidden weight gradient is exactly 0") and "frequencies" not in s
    rec.layer_stats["grad_norm"][3, 0] = 1e-12  # one nonzero gradient: not a dead start
    assert an.dead_start_sentence(rec, None) is None


def test_moved_but_identical_sentence_measures_the_change(panels):
    rec = panels[0].record
    s = an.moved_but_identical_sentence(panels[0])
    moved = [
        np.linalg.norm(rec.final_weights[j] - rec.weight_snapshots[0][j].astype(np.float64)) for j in (0, 1)
    ]
    assert f"‖W_end − W_0‖ = {moved[0]:.3g} in layer 1, {moved[1]:.3g} in layer 2" in s
    assert "every column is still identical" in s
    assert an.moved_but_identical_sentence(panels[1]) is None


def test_heatmap_sentence_flags_parallel_columns(panels):
    rec = panels[1].record
    col = np.array([[1.0], [2.0]])
    snap = (np.hstack([col, -2 * col, 3 * col, col]).astype(np.float32),) + rec.weight_snapshots[0][1:]
    p = an.Panel("Biased", _replace(rec, weight_snapshots=(snap,) + rec.weight_snapshots[1:]), "#000")
    s = an.heatmap_sentence([p], 0, 0)
    assert s == (
        "Step 0, hidden layer 1 — Biased: 3 distinct columns of 4, but they are parallel "
        "(mean |cosine| 1.00): they differ only in length and sign."
    )


def _replace(rec: RunRecord, **changes) -> RunRecord:
    import dataclasses

    return dataclasses.replace(rec, **changes)


def test_mean_abs_cosine_of_a_stack_and_of_a_diverged_layer():
    W = np.random.default_rng(3).normal(size=(5, 4))
    U = W / np.linalg.norm(W, axis=0)
    C = np.abs(U.T @ U)
    stack = mean_abs_cosine(np.stack([W, np.ones((5, 4))]))
    np.testing.assert_allclose(stack, [(C.sum() - 4) / 12, 1.0])
    with np.errstate(all="raise"):
        assert np.isnan(mean_abs_cosine(np.full((3, 3), np.inf)))
