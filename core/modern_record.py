"""A residual or normalized network (core.modern) trained with the RunRecord of core/records.py.

So the Training and Depth lessons show these networks with their own figures; core.train routes them here.
"""

# Layer j of the record is block / layer j + 1 of the ModernNet (column L: the output layer), as in
# core/records.py; the per-layer quantities are then:
# - act_mean, act_std, the "act" histograms: the layer's output h (for residual blocks: the stream after the
#   block); pre_std, the "pre" histogram: u, the activation's input (after the norm, if any);
# - saturation, dead: of phi(u) (inside the branch of a residual block);
# - weight_std, grad_std, grad_norm, update_ratio, the weight and gradient histograms, distinct units, cosine:
#   the block's first dense layer W (the one that reads u's units; a residual net's stem is not a layer);
# - backprop_std: dLoss/dh at the layer's output (for the output layer: dLoss/dlogits).
# Every array stops before the step at which the loss became non-finite (core.recorder's convention).

from __future__ import annotations

import hashlib
import math
import time

import numpy as np

from core.config import BOUNDARY_GRID, ExperimentConfig
from core.diagnostics import distinct_units, mean_cosine, numerical_ranks
from core.engine import batch_indices
from core.losses import softmax, softmax_cross_entropy
from core.modern import Optimizer, _evaluate, network, saturation_and_dead
from core.recorder import MAX_SNAPSHOT_FLOATS, make_binners
from core.records import HISTOGRAMS, LAYER_STATS, SYMMETRY_STATS, DataSplit, Histogram, RunRecord
from i18n import _


def is_modern(config: ExperimentConfig) -> bool:
    """Whether config's network is residual or normalized (core.modern trains it, not core.engine)."""
    return (config.block, config.norm) != ("plain", "none")


def check(config: ExperimentConfig) -> None:
    """Raise ValueError, in words for the page, if config asks for what these networks do not have."""
    if is_modern(config) and "lsuv" in config.schemes:
        raise ValueError(
            _(
                "LSUV rescales the layers of a plain network on a batch; it is not defined for residual or "
                "normalized networks here. Pick another initialization, or a plain network without normalization"
            )
        )


def _std(x: np.ndarray) -> float:
    return float(np.std(x, dtype=np.float64))


def train_record(config: ExperimentConfig, data: DataSplit, progress=None) -> RunRecord:
    """Train config's (one-scheme) residual or normalized network; its RunRecord."""
    c = config
    check(c)
    d, k = data.X_train.shape[1], data.n_classes
    net = network(c, d, k)
    L, o = net.depth, net.n_dense - 1
    if c.output_init == "zeros":  # only the output layer starts at zero (as core.engine.initial_network)
        net.params[f"W{o}"][...] = 0
        net.params[f"b{o}"][...] = 0
    dense = [net.first_dense(j) for j in range(L)] + [o]  # the dense layer each record layer reports
    X = data.X_train.astype(net.dtype)
    X_all = np.concatenate([data.X_train, data.X_test]).astype(net.dtype)
    y_all = np.concatenate([data.y_train, data.y_test])
    idx = batch_indices(c, len(X))
    opt = Optimizer(c.optimizer, c.lr, {"flat": net.flat})
    stat_steps = set(range(0, c.steps + 1, c.record_every)) | {c.steps}
    hist_steps = {int(round(x)) for x in np.linspace(0, c.steps, c.n_checkpoints)}
    n_w = sum(net.params[f"W{i}"].size for i in dense)
    keep_snapshots = len(hist_steps) * n_w <= MAX_SNAPSHOT_FLOATS
    losses: list[float] = []
    evals, rows, syms, hrows, snapshots = [], [], [], [], []
    binners = None
    diverged_at, divergence = None, ""
    every = max(1, c.steps // 50)
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        for s in range(c.steps + 1):
            Xb, yb = X[idx[s]], data.y_train[idx[s]]
            loss, G, layers = net.loss_and_grads(Xb, yb, "train" if s < c.steps else "batch")
            if not (math.isfinite(loss) and np.isfinite(net.grad_flat).all()):
                diverged_at = s
                what = "loss" if not math.isfinite(loss) else "gradient"
                divergence = (
                    f"Training stopped at step {s}: the mini-batch {what} became infinite or NaN. The step size "
                    "or the initial weights are too large for this network; the records end at the last "
                    "finite step."
                )
                break
            Ws = [net.params[f"W{i}"] for i in dense]
            if s in stat_steps or s in hist_steps:
                logits = layers[-1]["h"] @ Ws[-1] + net.params[f"b{o}"]
                dlogits = softmax_cross_entropy(logits, yb)[1]
                hs = [lay["h"] for lay in layers] + [logits]
                us = [lay["u"] for lay in layers] + [logits]
                Gs = [G[f"W{i}"] for i in dense]
            if s in stat_steps:
                evals.append((s, *_evaluate(net, X_all, y_all, len(X))))
                rows.append(
                    _stats(net, layers, hs, us, Ws, Gs, dlogits, [net.params[f"b{i}"] for i in dense])
                )
                syms.append(_symmetry(net, hs[:L], Ws[:L], [net.params[f"b{i}"] for i in dense[:L]]))
            if s in hist_steps:
                if binners is None:
                    act = c.activation if net.arch.block == "plain" else "stream"  # a stream is not bounded
                    binners = make_binners(act, hs, us, Ws, Gs)
                vals = {"act": hs, "act_log": hs, "pre": us, "weight": Ws, "grad": Gs}
                hrows.append((s, {q: [binners[q].count(v) for v in vals[q]] for q in HISTOGRAMS}))
                if keep_snapshots:
                    snapshots.append(tuple(W.astype(np.float32) for W in Ws))
            if s == c.steps:
                break
            losses.append(float(loss))
            before = [W.copy() for W in Ws] if s in stat_steps else None
            opt.step({"flat": net.flat}, {"flat": net.grad_flat})
            if before is not None:
                rows[-1]["update_ratio"][:] = [
                    _ratio(np.linalg.norm(W - W0), np.linalg.norm(W0)) for W, W0 in zip(Ws, before)
                ]
            if progress is not None and s % every == 0:
                progress(s / max(c.steps, 1), f"step {s} of {c.steps}")
    seconds = time.perf_counter() - t0
    E = np.array(evals, dtype=np.float64).reshape(-1, 5)
    n_used = len(losses)
    with np.errstate(all="ignore"):
        final = _final(net, data, dense)
    hists = {}
    if binners is not None:
        for q in HISTOGRAMS:
            hists[q] = Histogram(
                edges=binners[q].edges,
                counts=np.array([[t[0] for t in r[1][q]] for r in hrows], dtype=np.int64),
                transform=binners[q].transform,
                zeros=np.array([[t[1] for t in r[1][q]] for r in hrows], dtype=np.int64),
                clipped=np.array([[t[2] for t in r[1][q]] for r in hrows], dtype=np.int64),
            )
    eval_steps = E[:, 0].astype(np.int64)
    return RunRecord(
        scheme=c.schemes[0],
        config=c,
        sizes=tuple(c.sizes),
        loss=np.asarray(losses, dtype=np.float64),
        eval_steps=eval_steps,
        train_loss=E[:, 1],
        test_loss=E[:, 3],
        train_acc=E[:, 2],
        test_acc=E[:, 4],
        stat_steps=eval_steps.copy(),
        layer_stats={n: np.array([r[n] for r in rows]).reshape(len(rows), L + 1) for n in LAYER_STATS},
        symmetry={n: np.array([r[n] for r in syms]).reshape(len(syms), L) for n in SYMMETRY_STATS},
        hist_steps=np.array([r[0] for r in hrows], dtype=np.int64),
        hists=hists,
        weight_snapshots=tuple(snapshots),
        final_weights=final["weights"] if n_w <= MAX_SNAPSHOT_FLOATS else (),
        final_biases=final["biases"],
        confusion=final["confusion"],
        boundary=final.get("boundary"),
        boundary_prob=final.get("boundary_prob"),
        boundary_extent=final.get("boundary_extent"),
        diverged_at=diverged_at,
        divergence=divergence,
        batch_digest=hashlib.sha1(np.ascontiguousarray(idx[:n_used], dtype="<i8").tobytes()).hexdigest(),
        seconds=seconds,
        extra={"block": c.block, "norm": c.norm, "alpha": c.alpha},
    )


def _ratio(num: float, den: float) -> float:
    if den > 0:
        return num / den
    return math.inf if num > 0 else 0.0  # from all-zero weights: 0 if nothing moved, inf if anything did


def _stats(net, layers, hs, us, Ws, Gs, dlogits, bs) -> dict[str, np.ndarray]:
    L, act = net.depth, net.activation
    row = {n: np.full(L + 1, np.nan) for n in LAYER_STATS}
    for j in range(L + 1):
        row["act_mean"][j] = float(np.mean(hs[j], dtype=np.float64))
        row["act_std"][j] = _std(hs[j])
        row["pre_std"][j] = _std(us[j])
        row["weight_std"][j] = _std(Ws[j])
        row["grad_std"][j] = _std(Gs[j])
        row["grad_norm"][j] = float(np.sqrt(np.sum(np.square(Gs[j], dtype=np.float64))))
        row["backprop_std"][j] = _std(layers[j]["dh"] if j < L else dlogits)
        if j == L:
            break
        row["saturation"][j], row["dead"][j] = saturation_and_dead(layers[j]["a"], act)
    return row


def _symmetry(net, hs, Ws, bs) -> dict[str, np.ndarray]:
    """distinct units, mean cosine (of each layer's first dense layer) and the rank of its output."""
    L, w = net.depth, net.width
    rows = max(W.shape[0] for W in Ws)
    hidden = np.zeros((L, rows + 1, w))  # a narrower first layer padded with zero rows (core.recorder)
    for j, (W, b) in enumerate(zip(Ws, bs)):
        hidden[j, : W.shape[0]] = W
        hidden[j, -1] = b
    return {
        "distinct": np.asarray(distinct_units(hidden), dtype=np.float64).reshape(L),
        "cosine": np.asarray(mean_cosine(hidden[:, :-1]), dtype=np.float64).reshape(L),
        "rank": numerical_ranks(np.stack(hs)).astype(np.float64),
    }


def _final(net, data: DataSplit, dense: list[int]) -> dict:
    """Weights, confusion matrix (test split) and, for 2-D data, the decision boundary at the end."""
    k = data.n_classes
    pred = net.predict(data.X_test.astype(net.dtype))
    conf = np.zeros((k, k), dtype=np.int64)
    np.add.at(conf, (data.y_test, pred), 1)
    out = {
        "weights": tuple(net.params[f"W{i}"].copy() for i in dense),
        "biases": tuple(net.params[f"b{i}"].copy() for i in dense),
        "confusion": conf,
    }
    if data.X_train.shape[1] == 2:
        X = np.concatenate([data.X_train, data.X_test])
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.1 * (hi - lo)
        x0, x1, y0, y1 = lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]
        G = BOUNDARY_GRID
        gx, gy = np.meshgrid(np.linspace(x0, x1, G), np.linspace(y0, y1, G))
        z = net.forward(np.stack([gx.ravel(), gy.ravel()], axis=1).astype(net.dtype), "eval")[0]
        z = z.astype(np.float64)
        out["boundary"] = np.argmax(z, axis=1).reshape(G, G)
        out["boundary_prob"] = softmax(z).max(axis=1).reshape(G, G)
        out["boundary_extent"] = tuple(float(v) for v in (x0, x1, y0, y1))
    return out
