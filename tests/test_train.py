"""Tests of core.train: symmetry, depth, determinism, divergence, histograms, stacking, bad arguments.

Each test asserts numbers that the training loop would get wrong if it were wrong.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import core.train as train
from core import engine, recorder
from core.config import ExperimentConfig
from core.data import load
from core.mlp import MLP
from core.records import HISTOGRAMS, LAYER_STATS, SYMMETRY_STATS
from core.train import batch_indices, initial_network, run_experiment, run_many

ROOT = Path(__file__).resolve().parents[1]


def _digest(rec) -> str:
    """sha1 over every array and value of a record except its wall time and `extra`."""
    h = hashlib.sha1()

    def feed(x):
        if isinstance(x, np.ndarray):
            h.update(str(x.dtype).encode() + str(x.shape).encode())
            h.update(np.ascontiguousarray(x).tobytes())
        elif isinstance(x, dict):
            for k in sorted(x):
                h.update(k.encode())
                feed(x[k])
        elif isinstance(x, (tuple, list)):
            for v in x:
                feed(v)
        elif dataclasses.is_dataclass(x) and not isinstance(x, ExperimentConfig):
            for f in dataclasses.fields(x):
                if f.name not in ("seconds", "extra"):
                    feed(getattr(x, f.name))
        else:
            h.update(repr(x).encode())

    feed(rec)
    return h.hexdigest()


def _data(cfg):
    return load(cfg.dataset, cfg.n_samples, cfg.noise, cfg.n_classes, cfg.data_seed)


# --------------------------------------------------------------------------------------- symmetry
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_all_zero_init_only_the_output_bias_learns(activation):
    cfg = ExperimentConfig(
        dataset="digits",
        n_samples=600,
        depth=2,
        width=16,
        activation=activation,
        schemes=("zeros",),
        lr=2.0,
        steps=300,
    )
    data = _data(cfg)
    cfg = cfg.replace(batch_size=len(data.y_train))  # full-batch gradient descent
    r = run_experiment(cfg)["zeros"]
    assert (r.layer_stats["grad_norm"] == 0).all()  # every weight gradient, every layer, every step
    for W in r.final_weights:
        assert (W == 0).all()
    for b in r.final_biases[:-1]:
        assert (b == 0).all()
    # the model predicts the class frequencies of the training data
    b = r.final_biases[-1]
    p = np.exp(b - b.max()) / np.exp(b - b.max()).sum()
    freq = np.bincount(data.y_train, minlength=10) / len(data.y_train)
    assert freq.max() - freq.min() > 0.004
    np.testing.assert_allclose(p, freq, atol=2e-4)
    assert (r.symmetry["distinct"] == 1).all()


def test_zero_init_gradients_are_exactly_zero_in_the_network():
    for activation in ("tanh", "relu"):
        net = MLP([3, 6, 6, 2], activation=activation, weight_init="zeros", bias_init="zeros")
        X = np.random.default_rng(0).standard_normal((8, 3))
        _, dW, db = net.loss_and_grads(X, np.array([0, 1, 1, 1, 0, 1, 1, 0]))
        assert all((g == 0).all() for g in dW) and all((g == 0).all() for g in db[:-1])
        assert db[-1] == pytest.approx([0.5 * (5 / 8 - 3 / 8), -0.5 * (5 / 8 - 3 / 8)])


def test_sigmoid_zero_weights_move_but_units_stay_identical():
    cfg = ExperimentConfig(activation="sigmoid", schemes=("zeros",), depth=2, width=8, steps=200, lr=0.5)
    r = run_experiment(cfg)["zeros"]
    assert r.layer_stats["grad_norm"][-1, :2].min() > 1e-6  # hidden weights do move
    for W, b in zip(r.final_weights[:-1], r.final_biases[:-1]):
        assert np.abs(W).max() > 1e-6
        np.testing.assert_array_equal(W, np.repeat(W[:, :1], W.shape[1], axis=1))  # identical units
        assert (b == b[0]).all()
    assert (r.symmetry["distinct"] == 1).all()
    assert (r.symmetry["rank"][1:] == 1).all()


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.5), ("momentum", 0.1), ("adam", 0.01)])
def test_constant_init_keeps_units_identical(optimizer, lr):
    cfg = ExperimentConfig(
        schemes=("constant",), weight_const=0.3, optimizer=optimizer, lr=lr, steps=200, depth=3, width=16
    )
    r = run_experiment(cfg)["constant"]
    assert r.loss[0] != r.loss[-1]  # it trained
    assert (r.symmetry["distinct"] == 1).all()
    assert np.nanmin(r.symmetry["cosine"]) > 1 - 1e-12
    for W in r.final_weights[:-1]:
        np.testing.assert_array_equal(W, np.repeat(W[:, :1], W.shape[1], axis=1))


def test_zero_weights_with_random_biases_break_symmetry():
    cfg = ExperimentConfig(
        schemes=("zeros",), bias_init="normal", bias_value=0.5, depth=2, width=12, steps=200, lr=0.5
    )
    r = run_experiment(cfg)["zeros"]
    assert (r.symmetry["distinct"] == 12).all()
    W = r.final_weights[0]
    assert np.abs(W - W[:, :1]).max() > 1e-3  # units learned different incoming weights
    assert r.symmetry["cosine"][-1, 0] < 0.99


def test_random_init_gives_distinct_units():
    cfg = ExperimentConfig(schemes=("xavier_uniform", "he_normal"), depth=3, width=16, steps=50)
    for r in run_experiment(cfg).values():
        assert (r.symmetry["distinct"] == 16).all()
        assert (r.symmetry["rank"] == 16).all()
        assert np.abs(r.symmetry["cosine"]).max() < 0.5


# ------------------------------------------------------------------------------------------ depth
def _stds(scheme, activation, depth, width, **params):
    net = MLP([width] * (depth + 1) + [10], activation=activation, weight_init=scheme, seed=1, **params)
    X = np.random.default_rng(0).standard_normal((512, width))
    return np.array([h.std() for h in net.activations(X)[:-1]])


def test_he_keeps_relu_signal_over_30_layers_and_xavier_loses_it():
    he = _stds("he_normal", "relu", 30, 256)
    xavier = _stds("xavier_normal", "relu", 30, 256)
    assert 0.5 < he[-1] / he[0] < 2.0
    # Xavier halves the variance per ReLU layer: 29 layers -> std ratio 2 ** -14.5 ~ 4e-5
    assert 1e-5 < xavier[-1] / xavier[0] < 2e-4


def test_tanh_small_normal_collapses():
    s = _stds("normal", "tanh", 10, 64, std=0.01)
    # each layer multiplies the std by sqrt(64) * 0.01 = 0.08 in tanh's linear regime
    np.testing.assert_allclose(s[1:] / s[:-1], 0.08, rtol=0.1)
    assert s[-1] < 1e-9


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "linear"])
def test_records_follow_the_network_at_init(activation):
    """The training loop's buffers (the bias column of [h, 1] and [z, 1] that every activation runs over,
    the evaluation's) give the reference network's activations, loss and gradients."""
    cfg = ExperimentConfig(
        dataset="digits",
        n_samples=500,
        depth=4,
        width=32,
        activation=activation,
        schemes=("he_normal",),
        bias_init="normal",  # nonzero biases: the bias column's value matters
        bias_value=0.5,
        steps=10,
    )
    r = run_experiment(cfg)["he_normal"]
    data = _data(cfg)
    net = initial_network(cfg, "he_normal")
    Xb = data.X_train[batch_indices(cfg, len(data.y_train))[0]]
    hs = net.activations(Xb)
    np.testing.assert_allclose(r.layer_stats["act_std"][0], [h.std() for h in hs], rtol=1e-12)
    np.testing.assert_allclose(r.layer_stats["act_mean"][0], [h.mean() for h in hs], rtol=1e-10, atol=1e-15)
    if activation == "relu":
        dead = [1 - (h > 0).any(axis=0).mean() for h in hs[:-1]]
        np.testing.assert_allclose(r.layer_stats["dead"][0, :-1], dead)
    loss, dW, _ = net.loss_and_grads(Xb, data.y_train[batch_indices(cfg, len(data.y_train))[0]])
    assert r.loss[0] == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(r.layer_stats["grad_norm"][0], [np.linalg.norm(g) for g in dW], rtol=1e-10)
    sgd = [W - cfg.lr * g for W, g in zip(net.weights, dW)]
    ratio = [np.linalg.norm(a - W) / np.linalg.norm(W) for a, W in zip(sgd, net.weights)]
    np.testing.assert_allclose(r.layer_stats["update_ratio"][0], ratio, rtol=1e-10)
    assert np.isnan(r.layer_stats["update_ratio"][-1]).all()  # no update is taken after the last step
    # the evaluation's forward pass over the whole training split
    full_loss = net.loss_and_grads(data.X_train, data.y_train)[0]
    assert r.train_loss[0] == pytest.approx(full_loss, rel=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("far", [0.0, 30.0, 1000.0])
def test_stacked_loss_and_logit_gradient_match_the_reference(dtype, far):
    """The training loop shifts the log-sum-exp by the batch's largest logit; an example whose logits are
    all far below it (exp underflows) is shifted by its own. Both must give the reference loss and dz."""
    from core.losses import softmax_cross_entropy

    cfg = ExperimentConfig(dataset="digits", n_samples=400, depth=2, width=8, dtype=dtype, steps=1)
    data = _data(cfg)
    st = engine.Stack([cfg], data, diagnostics=False)
    st.load_batch(0)
    st.forward()
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, st.Z[-1][0].shape)
    logits[5] -= far
    st.Z[-1][0] = logits
    loss, dz = st.loss_and_backward()
    y = data.y_train[batch_indices(cfg, len(data.y_train))[0]]
    ref_loss, ref_dz = softmax_cross_entropy(logits, y)
    tol = 1e-12 if dtype == "float64" else 2e-6
    assert loss[0] == pytest.approx(ref_loss, rel=tol)
    np.testing.assert_allclose(dz[0], ref_dz, rtol=tol * 10, atol=tol * np.abs(ref_dz).max())


@pytest.mark.parametrize("scheme", ["he_normal", "constant"])
def test_symmetry_records_match_the_measures_of_each_layer(scheme):
    """The recorder measures all hidden layers in one stack (a narrower first layer padded with zeros):
    the same numbers as measuring each layer's weights on its own."""
    from core.diagnostics import distinct_units, mean_cosine

    cfg = ExperimentConfig(dataset="spiral", depth=3, width=12, schemes=(scheme,), steps=20, record_every=10)
    r = run_experiment(cfg)[scheme]
    L = cfg.depth
    Ws = [np.vstack([W, b]) for W, b in zip(r.final_weights[:L], r.final_biases[:L])]
    assert r.symmetry["distinct"][-1].tolist() == [distinct_units(W) for W in Ws]
    np.testing.assert_allclose(r.symmetry["cosine"][-1], [mean_cosine(W[:-1]) for W in Ws], rtol=1e-12)
    if scheme == "constant":
        assert r.symmetry["distinct"][-1].tolist() == [1, 1, 1]


def test_float32_vanishing_gradients_are_measured_not_rounded_to_zero():
    """Tiny initial weights in float32: gradients of ~1e-37, whose squares underflow float32. Their std and
    norm are the true ones (computed in float64), not 0, which would tell a student the gradient is gone."""
    cfg = ExperimentConfig(
        dataset="circles", depth=6, width=8, activation="gelu", schemes=("normal",), weight_std=1e-6,
        dtype="float32", steps=2, record_every=1,
    )  # fmt: skip
    r = run_experiment(cfg)["normal"]
    data = _data(cfg)
    net = initial_network(cfg, "normal")
    batch = batch_indices(cfg, len(data.y_train))[0]
    _, dW, _ = net.loss_and_grads(data.X_train[batch], data.y_train[batch])
    want = [g.astype(np.float64).std() for g in dW]
    assert min(want) < 1e-30  # the regime this test is about
    np.testing.assert_allclose(r.layer_stats["grad_std"][0], want, rtol=1e-3)
    norms = [np.linalg.norm(g.astype(np.float64)) for g in dW]
    np.testing.assert_allclose(r.layer_stats["grad_norm"][0], norms, rtol=1e-3)
    # the first update: lr * dW, against weights of ~1e-6
    ratio = [cfg.lr * n / np.linalg.norm(W.astype(np.float64)) for n, W in zip(norms, net.weights)]
    np.testing.assert_allclose(r.layer_stats["update_ratio"][0], ratio, rtol=1e-3)


# ------------------------------------------------------------------------------------ determinism
CFG = ExperimentConfig(
    schemes=("xavier_uniform", "normal", "lsuv"),
    steps=40,
    record_every=5,
    optimizer="adam",
    lr=0.01,
    activation="gelu",
    depth=3,
    width=16,
)


def test_same_config_same_records_in_process():
    a = run_experiment(CFG)
    b = run_experiment(CFG)
    assert [_digest(a[s]) for s in CFG.schemes] == [_digest(b[s]) for s in CFG.schemes]


def test_same_config_same_records_across_processes():
    code = (
        "import json; from tests.test_train import CFG, _digest; from core.train import run_experiment; "
        "print(json.dumps([_digest(r) for r in run_experiment(CFG).values()]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        _digest(r) for r in run_experiment(CFG).values()
    ]


def test_adding_a_scheme_changes_nothing_for_the_others():
    one = run_experiment(CFG.replace(schemes=("normal",)))["normal"]
    three = run_experiment(CFG)["normal"]
    assert _digest(dataclasses.replace(one, config=CFG)) == _digest(three)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_stacked_and_sequential_training_give_identical_records(optimizer, monkeypatch):
    base = ExperimentConfig(depth=3, width=16, steps=30, record_every=5, optimizer=optimizer, lr=0.05)
    cfgs = [base.replace(schemes=(s,)) for s in ("xavier_uniform", "he_normal", "orthogonal", "zeros")]
    cfgs.append(base.replace(schemes=("normal",), weight_std=0.3, bias_init="normal", bias_value=0.1))
    stacked = run_many(cfgs)
    assert stacked[0].extra["stacked_with"] == 5
    monkeypatch.setattr(train, "STACK_MAX_K", 1)
    alone = run_many(cfgs)
    assert alone[0].extra["stacked_with"] == 1
    assert [_digest(r) for r in stacked] == [_digest(r) for r in alone]


def test_float32_stacks_up_to_width_64_with_identical_records(monkeypatch):
    """STACK_MAX_WIDTH: float32 comparisons at width 64 train stacked (float64 ones one by one), with the
    records of networks trained alone."""
    base = ExperimentConfig(depth=2, width=64, steps=20, record_every=5, dtype="float32")
    cfgs = [base.replace(schemes=(s,)) for s in ("xavier_uniform", "he_normal", "zeros")]
    stacked = run_many(cfgs)
    assert stacked[0].extra["stacked_with"] == 3
    assert run_many([c.replace(dtype="float64") for c in cfgs])[0].extra["stacked_with"] == 1
    monkeypatch.setattr(train, "STACK_MAX_K", 1)
    alone = run_many(cfgs)
    assert [_digest(r) for r in stacked] == [_digest(r) for r in alone]


real_submit = engine.submit


def test_diagnostics_worker_thread_gives_the_inline_records(monkeypatch):
    monkeypatch.setattr(engine, "ASYNC_MIN_WORK", 0)  # the worker thread even for this small net ...
    monkeypatch.setattr(engine, "ASYNC_STATS_MIN_WORK", 0)
    monkeypatch.setattr(engine, "idle_core", lambda: True)  # ... and on a busy machine
    submitted = []
    for module in (engine, recorder):  # evaluations (engine) and statistics (recorder)
        monkeypatch.setattr(
            module, "submit", lambda inline, *a: submitted.append(inline) or real_submit(inline, *a)
        )
    threaded = run_experiment(CFG)
    assert submitted and not any(submitted)
    monkeypatch.setattr(engine, "ASYNC_DIAGNOSTICS", False)
    inline = run_experiment(CFG)
    assert [_digest(r) for r in threaded.values()] == [_digest(r) for r in inline.values()]


def test_mini_batches_are_the_same_for_every_scheme():
    recs = run_experiment(CFG)
    assert len({r.batch_digest for r in recs.values()}) == 1


# ------------------------------------------------------------------------------------- divergence
def test_divergence_stops_cleanly_and_others_continue():
    cfg = ExperimentConfig(
        schemes=("normal", "xavier_uniform"),
        weight_std=3.0,
        lr=1.0,
        activation="relu",
        depth=6,
        width=64,
        steps=100,
    )
    with np.errstate(all="raise"):  # no floating-point warning may leak out of training
        recs = run_experiment(cfg)
    bad, good = recs["normal"], recs["xavier_uniform"]
    assert good.diverged_at is None and good.divergence == "" and len(good.loss) == 100
    assert bad.diverged_at is not None and 0 < bad.diverged_at < 100
    assert f"step {bad.diverged_at}" in bad.divergence and bad.divergence.endswith(".")
    assert len(bad.loss) == bad.diverged_at and np.isfinite(bad.loss).all()
    assert (bad.eval_steps < bad.diverged_at).all() and np.isfinite(bad.train_loss).all()
    for name in ("act_std", "pre_std", "weight_std", "grad_norm", "backprop_std"):
        assert np.isfinite(bad.layer_stats[name]).all()
    assert all(np.isfinite(w).all() for w in bad.final_weights + bad.final_biases)
    assert bad.confusion.sum() == 150


# ------------------------------------------------------------------------------------- histograms
def test_histograms_count_every_value_with_shared_edges():
    cfg = ExperimentConfig(
        schemes=("he_normal", "zeros"),
        activation="relu",
        depth=3,
        width=16,
        steps=50,
        n_checkpoints=4,
        batch_size=32,
    )
    recs = run_experiment(cfg)
    r = recs["he_normal"]
    L, B = 3, 32
    assert list(r.hist_steps) == [0, 17, 33, 50]
    sizes = [2, 16, 16, 16, 3]
    n_act = np.array([B * n for n in sizes[1:]])
    n_w = np.array([a * b for a, b in zip(sizes[:-1], sizes[1:])])
    for q in HISTOGRAMS:
        h = r.hists[q]
        assert h.counts.shape == (4, L + 1, len(h.edges) - 1)
        total = h.counts.sum(axis=2) + (h.zeros if h.transform == "log10abs" else 0)
        np.testing.assert_array_equal(
            total, np.broadcast_to(n_act if q in ("act", "act_log", "pre") else n_w, (4, L + 1))
        )
    # at step 0 the counts are np.histogram's over the one set of edges, values clipped into the end bins
    data = _data(cfg)
    net = initial_network(cfg, "he_normal")
    hs = net.activations(data.X_train[batch_indices(cfg, len(data.y_train))[0]])
    edges = r.hists["act"].edges
    for j, h in enumerate(hs):
        ref = np.histogram(np.clip(h, edges[0], edges[-1]), edges)[0]
        np.testing.assert_array_equal(r.hists["act"].counts[0, j], ref)
    for j, W in enumerate(net.weights):
        np.testing.assert_array_equal(
            r.hists["weight"].counts[0, j], np.histogram(W, r.hists["weight"].edges)[0]
        )
    # all-zero gradients are counted as zeros, not in the log bins
    z = recs["zeros"].hists["grad"]
    assert z.transform == "log10abs" and (z.counts.sum(axis=2)[0] == 0).all() and (z.zeros[0] == n_w).all()
    assert len(r.weight_snapshots) == 4 and r.weight_snapshots[0][1].dtype == np.float32


# ----------------------------------------------------------------------------------- the records
def test_record_shapes_follow_records_py():
    cfg = ExperimentConfig(depth=2, width=8, steps=25, record_every=10, schemes=("xavier_normal",))
    r = run_experiment(cfg)["xavier_normal"]
    assert list(r.eval_steps) == [0, 10, 20, 25] and list(r.stat_steps) == [0, 10, 20, 25]
    assert r.loss.shape == (25,)
    for name in LAYER_STATS:
        assert r.layer_stats[name].shape == (4, 3)
    for name in SYMMETRY_STATS:
        assert r.symmetry[name].shape == (4, 2)
    assert r.boundary.shape == (100, 100) and r.boundary_prob.max() <= 1.0
    assert r.confusion.shape == (3, 3) and r.confusion.sum() == 150
    assert r.test_acc[-1] == pytest.approx(np.trace(r.confusion) / 150)
    assert np.isnan(r.layer_stats["dead"]).all() and not np.isnan(r.layer_stats["saturation"][:, :2]).any()


def test_decision_boundary_is_the_final_networks_prediction_on_the_grid():
    """The 100 x 100 grid, evaluated in chunks the size of the evaluation's buffers, against the reference
    network with the run's final weights."""
    cfg = ExperimentConfig(
        dataset="spiral", depth=3, width=16, activation="tanh", bias_init="normal", bias_value=0.3, steps=40
    )
    r = run_experiment(cfg)[cfg.schemes[0]]
    net = initial_network(cfg, cfg.schemes[0])
    net.weights, net.biases = list(r.final_weights), list(r.final_biases)
    x0, x1, y0, y1 = r.boundary_extent
    G = r.boundary.shape[0]
    gx, gy = np.meshgrid(np.linspace(x0, x1, G), np.linspace(y0, y1, G))
    logits = net.activations(np.column_stack([gx.ravel(), gy.ravel()]))[-1]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(r.boundary_prob.ravel(), p.max(axis=1), rtol=1e-10)
    assert np.count_nonzero(r.boundary.ravel() != logits.argmax(axis=1)) <= 2  # exact ties aside
    assert G * G > 3 * cfg.n_samples  # the grid takes several chunks


def test_diagnostics_off_records_losses_only():
    cfg = ExperimentConfig(depth=2, width=8, steps=20, schemes=("xavier_normal",))
    full = run_many([cfg])[0]
    lean = run_many([cfg], diagnostics=False)[0]
    np.testing.assert_array_equal(full.loss, lean.loss)
    np.testing.assert_array_equal(full.test_acc, lean.test_acc)
    assert lean.layer_stats == {} and lean.hists == {} and lean.boundary is None


def test_progress_is_reported_up_to_one():
    seen = []
    run_experiment(ExperimentConfig(steps=100, depth=1, width=8), progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) > 5


@pytest.mark.parametrize(
    "cfg, name",
    [
        (ExperimentConfig(depth=0), "depth"),
        (ExperimentConfig(width=-3), "width"),
        (ExperimentConfig(schemes=("glorot",)), "schemes"),
        (ExperimentConfig(optimizer="rmsprop"), "optimizer"),
    ],
)
def test_bad_configs_name_the_field(cfg, name):
    with pytest.raises(ValueError, match=name):
        run_experiment(cfg)


def test_run_many_needs_one_scheme_per_config():
    with pytest.raises(ValueError, match="schemes"):
        run_many([ExperimentConfig(schemes=("zeros", "normal"))])


def test_sparse_scheme_trains_from_its_sparsity_end_to_end():
    """The config's sparsity reaches the initializer through the registry (init_params): ceil(0.3 * 16) = 5 of
    each input's 16 weights start at 0 in every hidden layer, and the run trains."""
    cfg = ExperimentConfig(schemes=("sparse",), sparsity=0.3, weight_std=0.5, depth=2, width=16, steps=20)
    rec = run_experiment(cfg)["sparse"]
    for W in rec.weight_snapshots[0][1:-1]:
        assert ((W == 0).sum(axis=1) == 5).all()
    assert rec.diverged_at is None and rec.train_loss[-1] < rec.train_loss[0]


# ---------------------------------------------------------------- residual and normalized networks (core.modern)

MODERN = [
    {"block": "residual", "norm": "batch"},
    {"norm": "layer"},
    {"block": "residual", "alpha": "learned", "activation": "relu"},
]


@pytest.mark.parametrize("changes", MODERN, ids=lambda c: "-".join(map(str, c.values())))
def test_residual_and_normalized_configs_give_records_of_the_plain_shape(changes):
    """The Training and Depth figures read the same fields of a residual / normalized run as of a plain one."""
    c = ExperimentConfig(steps=40, record_every=10, n_checkpoints=3, depth=4, width=16, **changes)
    rec = run_experiment(c)[c.schemes[0]]
    plain = run_experiment(c.replace(block="plain", norm="none", alpha="one"))[c.schemes[0]]
    L = c.depth
    assert rec.sizes == plain.sizes and rec.loss.shape == plain.loss.shape == (40,)
    assert rec.eval_steps.tolist() == plain.eval_steps.tolist() == [0, 10, 20, 30, 40]
    for name in LAYER_STATS:
        assert rec.layer_stats[name].shape == (5, L + 1), name
    for name in SYMMETRY_STATS:
        assert rec.symmetry[name].shape == (5, L), name
    for name in HISTOGRAMS:
        h = rec.hists[name]
        every = c.batch_size * 16 if name in ("act", "act_log", "pre") else rec.final_weights[0].size
        assert (
            h.counts.shape[:2] == (3, L + 1) and (h.counts.sum(axis=2)[:, 0] + h.zeros[:, 0] == every).all()
        )
    assert len(rec.final_weights) == len(plain.final_weights) == L + 1
    assert rec.boundary.shape == plain.boundary.shape and rec.confusion.sum() == len(load(c.dataset).y_test)
    assert rec.batch_digest == plain.batch_digest  # the same mini-batches
    assert rec.train_loss[-1] < 0.8 * rec.train_loss[0]  # it trains


def test_residual_record_is_the_network_core_modern_trains():
    """Losses and per-layer numbers equal core.modern's own trainer on the same config (same network)."""
    from core.modern import run_modern

    c = ExperimentConfig(steps=30, record_every=10, depth=5, width=16, block="residual", norm="batch")
    rec = run_experiment(c)[c.schemes[0]]
    ref = run_modern([c])[0]
    np.testing.assert_array_equal(rec.loss, ref.loss)
    np.testing.assert_array_equal(rec.train_loss, ref.train_loss)
    np.testing.assert_array_equal(rec.test_acc, ref.test_acc)
    np.testing.assert_allclose(rec.layer_stats["act_std"][:, :-1], ref.layer_stats["stream_std"], rtol=1e-12)
    np.testing.assert_allclose(rec.layer_stats["pre_std"][:, :-1], ref.layer_stats["pre_std"], rtol=1e-12)
    np.testing.assert_allclose(rec.layer_stats["grad_std"][:, :-1], ref.layer_stats["grad_std"], rtol=1e-12)
    np.testing.assert_array_equal(rec.symmetry["distinct"], ref.layer_stats["distinct"])


def test_constant_start_with_batchnorm_stays_symmetric_in_the_record():
    c = ExperimentConfig(steps=50, record_every=25, schemes=("constant",), norm="batch", depth=3, width=8)
    rec = run_experiment(c)["constant"]
    assert (rec.symmetry["distinct"] == 1).all()


def test_modern_output_init_zeros_and_divergence():
    c = ExperimentConfig(steps=5, record_every=5, block="residual", output_init="zeros")
    rec = run_experiment(c)[c.schemes[0]]
    assert rec.layer_stats["weight_std"][0, -1] == 0 and rec.layer_stats["weight_std"][1, -1] > 0
    # He + ReLU residual blocks with alpha = 1: the stream's variance doubles per block (lesson 5's race)
    big = ExperimentConfig(
        steps=30,
        block="residual",
        schemes=("he_normal",),
        activation="relu",
        depth=20,
        optimizer="sgd",
        lr=0.1,
    )
    rec = run_experiment(big)["he_normal"]
    assert rec.diverged_at is not None and "infinite or NaN" in rec.divergence
    assert len(rec.loss) == rec.diverged_at and (rec.eval_steps < rec.diverged_at).all()


def test_lsuv_on_a_residual_network_is_refused_in_words():
    with pytest.raises(ValueError, match="LSUV rescales the layers of a plain network"):
        run_many([ExperimentConfig(steps=1, block="residual", schemes=("lsuv",))])
