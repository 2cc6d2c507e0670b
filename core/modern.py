"""Normalization and residual connections: plain or residual blocks, BatchNorm or LayerNorm, branch scale alpha.

Each piece keeps its forward rule next to its backward rule (as core.mlp does); a trainer records every block.
About 550 lines on purpose: the network, its trainer and records and its variance recursion are one lesson's
engine and share Arch; the norms are in core/normalization.py, the RunRecord for other lessons in core/modern_record.py.
"""

# Architecture (the placements are stated on the lesson page):
# - plain:    h_l = phi(N(h_{l-1} W_l + b_l)); N is BatchNorm or LayerNorm after the linear layer (Ioffe &
#             Szegedy 2015 put BatchNorm there, before the nonlinearity), or nothing.
# - residual: a stem h_0 = x W_0 + b_0 (no activation), then L blocks h_l = h_{l-1} + alpha_l f(N(h_{l-1})),
#             with the pre-norm branch f(u) = phi(u) W + b (one dense layer) or phi(phi(u) W_1 + b_1) W_2 + b_2
#             (two), as in pre-activation ResNets (He et al. 2016) and pre-LN transformers.
# - both end in a dense output layer (the logits) on the last h.
# alpha: 1; 1/sqrt(L); 1/sqrt(2L) (GPT-2 scales its residual projections so); or a learnable scalar per block
# that starts at 0 (SkipInit, De & Smith 2020; ReZero, Bachlechner et al. 2020).
# Norm parameters gamma = 1, beta = 0 at the start; BatchNorm keeps running statistics with PyTorch's
# convention: r <- (1 - momentum) r + momentum * batch statistic, the variance unbiased (N / (N - 1)).

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.config import ALPHAS, BLOCKS, BRANCH_LAYERS, NORMS, ExperimentConfig
from core.diagnostics import Binner, distinct_units
from core.initializers import initialize, initialize_bias
from core.activations import ACTIVATIONS
from core.engine import ADAM, MOMENTUM, batch_indices, init_params  # the core engine's conventions
from core.engine import load_data as _load
from core.losses import softmax_cross_entropy
from core.mlp import init_rng
from core.normalization import (  # noqa: F401 (public here too: tests and benchmarks use them)
    BN_MOMENTUM,
    EPS,
    batchnorm_eval,
    norm_backward,
    norm_forward,
    update_running,
)
from core.records import DataSplit, Histogram


Progress = Callable[[float, str], None] | None


def alpha_value(alpha: str, depth: int) -> float:
    """The branch scale alpha at the start: 1, 1/sqrt(L), 1/sqrt(2L), or 0 (learned, SkipInit)."""
    return {"one": 1.0, "inv_sqrt_l": 1 / math.sqrt(depth), "inv_sqrt_2l": 1 / math.sqrt(2 * depth)}.get(
        alpha, 0.0
    )


# ---------------------------------------------------------------------------------------------
# Normaliwork.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arch:
    """The shape of a network beyond its widths: block kind, normalization, branch scale and depth."""

    block: str = "plain"
    norm: str = "none"
    alpha: str = "one"
    branch_layers: int = 1

    def check(self) -> None:
        for name, value, allowed in (
            ("block", self.block, BLOCKS),
            ("norm", self.norm, NORMS),
            ("alpha", self.alpha, ALPHAS),
            ("branch_layers", self.branch_layers, BRANCH_LAYERS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")


class ModernNet:
    """A plain or residual network of `depth` layers / blocks of `width` units on inputs of size d, k classes.

    Parameters live in `params` (name -> array): W{i}, b{i} of dense layer i (in the order the initializer
    draws them: the layers of core.mlp.MLP for plain nets, so a plain net without norm starts exactly as MLP
    does); g{j}, be{j}: gamma and beta of block j's norm; a{j}: block j's learnable alpha. `running` holds
    BatchNorm's running mean and var per block.
    """

    def __init__(
        self,
        d: int,
        width: int,
        depth: int,
        k: int,
        arch: Arch = Arch(),
        activation: str = "tanh",
        weight_init: str = "xavier_uniform",
        bias_init: str = "zeros",
        bias_value: float = 0.0,
        seed: int = 0,
        dtype: str = "float64",
        **init_params,
    ) -> None:
        arch.check()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
        self.arch, self.depth, self.width = arch, int(depth), int(width)
        self.activation, self.slope = activation, float(init_params.get("slope", 0.01))
        self.dtype = np.dtype(dtype)
        rng = init_rng(seed, weight_init)
        if arch.block == "plain":
            sizes = [d] + [width] * depth + [k]
        else:
            sizes = [d] + [width] * (1 + depth * arch.branch_layers) + [k]
        self.params: dict[str, np.ndarray] = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = initialize(weight_init, fan_in, fan_out, rng=rng, activation=activation, **init_params)
            b = initialize_bias(bias_init, fan_in, fan_out, rng, value=bias_value)
            self.params[f"W{i}"] = np.array(W, dtype=self.dtype)
            self.params[f"b{i}"] = np.array(b, dtype=self.dtype).reshape(fan_out)
        self.n_dense = len(sizes) - 1
        self.running: list[dict] = []
        for j in range(depth):
            if arch.norm != "none":
                self.params[f"g{j}"] = np.ones(width, dtype=self.dtype)
                self.params[f"be{j}"] = np.zeros(width, dtype=self.dtype)
            if arch.block == "residual" and arch.alpha == "learned":
                self.params[f"a{j}"] = np.zeros(1, dtype=self.dtype)
            self.running.append({"mean": np.zeros(width, self.dtype), "var": np.ones(width, self.dtype)})
        self._alpha = alpha_value(arch.alpha, depth)
        # All parameters are views into one flat array, and each gradient is written into the same place of a
        # flat gradient: the optimizer then updates a deep net in a few whole-array operations instead of a
        # few per parameter array (the per-call cost dominated at the lesson's sizes).
        self.flat = np.concatenate([v.ravel() for v in self.params.values()])
        self._slots: dict[str, tuple[int, tuple[int, ...]]] = {}
        at = 0
        for name, v in self.params.items():
            self._slots[name] = (at, v.shape)
            self.params[name] = self.flat[at : at + v.size].reshape(v.shape)
            at += v.size
        self.grad_flat = np.zeros_like(self.flat)  # the flat gradient of the last loss_and_grads

    def _grad_views(self) -> dict[str, np.ndarray]:
        """A fresh flat gradient (self.grad_flat) and its views, one per parameter (name -> array)."""
        self.grad_flat = np.empty_like(self.flat)
        return {
            k: self.grad_flat[at : at + math.prod(shape)].reshape(shape)
            for k, (at, shape) in self._slots.items()
        }

    def alpha(self, j: int) -> float:
        """Block j's branch scale now."""
        return float(self.params[f"a{j}"][0]) if f"a{j}" in self.params else self._alpha

    def first_dense(self, j: int) -> int:
        """Index of the first dense layer of layer / block j (its units are the block's distinct units)."""
        return j if self.arch.block == "plain" else 1 + j * self.arch.branch_layers

    def _norm(self, z: np.ndarray, j: int, mode: str) -> tuple[np.ndarray, tuple | None]:
        """Block j's normalization. mode: "train" (batch statistics, running ones updated), "batch" (batch
        statistics only) or "eval" (BatchNorm from its running statistics)."""
        norm = self.arch.norm
        if norm == "none":
            return z, None
        g, be = self.params[f"g{j}"], self.params[f"be{j}"]
        if norm == "batch" and mode == "eval":
            r = self.running[j]
            return batchnorm_eval(z, g, be, r["mean"], r["var"]), None
        out, cache = norm_forward(z, g, be, axis=0 if norm == "batch" else 1)
        if norm == "batch" and mode == "train":
            update_running(self.running[j], cache[4], cache[5], z.shape[0])
        return out, cache

    def forward(self, X: np.ndarray, mode: str = "batch") -> tuple[np.ndarray, list[dict]]:
        """Logits and, per layer / block, what the backward pass and the records need."""
        phi = ACTIVATIONS[self.activation].phi
        P, s, arch = self.params, self.slope, self.arch
        h = np.asarray(X, dtype=self.dtype)
        layers: list[dict] = []
        if arch.block == "residual":
            h = h @ P["W0"] + P["b0"]  # the stem: a linear map to the stream's width
        for j in range(self.depth):
            c: dict = {"h_in": h}
            i = self.first_dense(j)
            if arch.block == "plain":
                c["z"] = h @ P[f"W{i}"] + P[f"b{i}"]
                c["u"], c["norm"] = self._norm(c["z"], j, mode)  # u: the activation's input
                c["a"] = phi(c["u"], slope=s)
                h = c["a"]
            else:
                c["u"], c["norm"] = self._norm(h, j, mode)
                c["a"] = phi(c["u"], slope=s)
                f = c["a"] @ P[f"W{i}"] + P[f"b{i}"]
                if arch.branch_layers == 2:
                    c["z2"] = f
                    c["a2"] = phi(f, slope=s)
                    f = c["a2"] @ P[f"W{i + 1}"] + P[f"b{i + 1}"]
                c["f"] = f
                h = h + self.alpha(j) * f
            c["h"] = h
            layers.append(c)
        o = self.n_dense - 1
        return h @ P[f"W{o}"] + P[f"b{o}"], layers

    def loss_and_grads(
        self, X: np.ndarray, y: np.ndarray, mode: str = "batch"
    ) -> tuple[float, dict[str, np.ndarray], list[dict]]:
        """Mean softmax cross-entropy, its gradient for every parameter, and the layers' caches (each with
        "dh": dLoss/d(its output h))."""
        # g *= phi'(z), from phi's output where that is cheaper (tanh: 1 - h^2, no second tanh)
        back = ACTIVATIONS[self.activation].backward
        P, s, arch = self.params, self.slope, self.arch
        logits, layers = self.forward(X, mode)
        loss, dz = softmax_cross_entropy(logits, np.asarray(y))
        dz = dz.astype(self.dtype, copy=False)
        G = self._grad_views()
        o = self.n_dense - 1
        h_last = layers[-1]["h"]
        # logits = h W_o + b_o  =>  dW_o = h^T dlogits, db_o = sum of dlogits, dh = dlogits W_o^T
        _dense_grads(h_last, dz, G, o)
        dh = dz @ P[f"W{o}"].T
        for j in range(self.depth - 1, -1, -1):
            c = layers[j]
            c["dh"] = dh
            i = self.first_dense(j)
            if arch.block == "plain":
                du = dh.copy()  # h = phi(u); dh stays in the records
                back(du, c["u"], c["a"], s)
                dz = _norm_back(du, c["norm"], j, G)  # u = N(z)
                _dense_grads(c["h_in"], dz, G, i)  # z = h_in W + b
                if j > 0:  # nothing reads dLoss/dX
                    dh = dz @ P[f"W{i}"].T
                continue
            # h = h_in + alpha f  =>  dh_in = dh + (through the branch), df = alpha dh, dalpha = sum(dh * f)
            if f"a{j}" in P:
                G[f"a{j}"][0] = np.sum(dh * c["f"])
            df = self.alpha(j) * dh
            if arch.branch_layers == 2:
                _dense_grads(c["a2"], df, G, i + 1)
                df = df @ P[f"W{i + 1}"].T
                back(df, c["z2"], c["a2"], s)
            _dense_grads(c["a"], df, G, i)
            du = df @ P[f"W{i}"].T
            back(du, c["u"], c["a"], s)
            dh = dh + _norm_back(du, c["norm"], j, G)
        if arch.block == "residual":
            _dense_grads(np.asarray(X, dtype=self.dtype), dh, G, 0)
        return loss, G, layers

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.argmax(self.forward(X, "eval")[0], axis=1)


def _dense_grads(h_in: np.ndarray, dz: np.ndarray, G: dict[str, np.ndarray], i: int) -> None:
    """z = h_in W_i + b_i  =>  dW_i = h_in^T dz, db_i = sum of dz over the examples; written into G's views."""
    np.matmul(h_in.T, dz, out=G[f"W{i}"])
    np.add.reduce(dz, axis=0, out=G[f"b{i}"])


def _norm_back(du: np.ndarray, cache: tuple | None, j: int, G: dict) -> np.ndarray:
    """Gradient through block j's norm (identity without one); dgamma and dbeta go into G's views."""
    if cache is None:
        return du
    return norm_backward(du, cache, out=(G[f"g{j}"], G[f"be{j}"]))[0]


# ---------------------------------------------------------------------------------------------
# Optimizers: the core engine's rules (core.train), on a dict of parameters.
# ---------------------------------------------------------------------------------------------


class Optimizer:
    """sgd: p -= lr g; momentum (PyTorch's form): v = mu v + g, p -= lr v; adam with bias correction."""

    def __init__(self, kind: str, lr: float, params: dict[str, np.ndarray]) -> None:
        self.kind, self.lr, self.t = kind, float(lr), 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        b1, b2, eps = ADAM
        for k, p in params.items():
            g = grads[k]
            if self.kind == "sgd":
                p -= self.lr * g
            elif self.kind == "momentum":
                self.m[k] = MOMENTUM * self.m[k] + g
                p -= self.lr * self.m[k]
            else:
                self.m[k] = b1 * self.m[k] + (1 - b1) * g
                self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
                m_hat, v_hat = self.m[k] / (1 - b1**self.t), self.v[k] / (1 - b2**self.t)
                p -= self.lr * m_hat / (np.sqrt(v_hat) + eps)


# ---------------------------------------------------------------------------------------------
# Training with records: the same data, batches and seed conventions as core.train.
# ---------------------------------------------------------------------------------------------

# Keys of ModernRecord.layer_stats, each (R, L) over stat_steps; column j = layer / block j + 1.
LAYER_STATS = (
    "stream_std",  # std of the layer's output h: the residual stream after block j, or phi(z) of a plain layer
    "branch_std",  # std of the branch output f (before alpha); NaN for plain layers
    "pre_std",  # std of u, the activation's input (after the norm, if any)
    "act_std",  # std of phi(u), inside the branch for residual blocks
    "saturation",  # share of |phi(u)| > 0.99 (tanh) or outside [0.01, 0.99] (sigmoid); NaN otherwise
    "dead",  # share of units of phi(u) that are 0 on every example of the batch (relu); NaN otherwise
    "grad_std",  # std of dLoss/dW of the layer's (first) dense layer
    "backprop_std",  # std of dLoss/dh, the gradient arriving at the layer's output
    "distinct",  # distinct units of the (first) dense layer: columns of [W; b] (core.diagnostics)
    "alpha",  # the branch scale (1 for plain layers)
)
HIST_EDGES = {"stream": (-10.0, 10.0), "grad": (-16.0, 4.0)}  # log10|value| ranges of the histograms
HIST_BINS = 80


@dataclass(frozen=True)
class ModernRecord:
    """One network of a config trained with core.modern; steps as in core.records.RunRecord."""

    config: ExperimentConfig
    loss: np.ndarray  # (S,) mini-batch loss of update s + 1
    eval_steps: np.ndarray  # (E,) the recorded steps
    train_loss: np.ndarray  # (E,) whole train split, evaluation mode (BatchNorm from running statistics)
    test_loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    layer_stats: dict[str, np.ndarray]  # LAYER_STATS -> (E, L)
    input_std: np.ndarray  # (E,) std of what enters layer / block 1 (the stem's output, or the data)
    first_pre_std: np.ndarray  # (E,) std of x W_0 + b_0, the first dense layer (before any norm)
    hist_steps: np.ndarray  # (C,)
    hists: dict[str, Histogram]  # "stream": log10|h| per layer; "grad": log10|dLoss/dW| per layer
    diverged_at: int | None
    divergence: str
    seconds: float
    extra: dict = field(default_factory=dict)


def arch_of(config: ExperimentConfig) -> Arch:
    return Arch(config.block, config.norm, config.alpha, config.branch_layers)


def network(config: ExperimentConfig, d: int, k: int) -> ModernNet:
    """The network config's (one) scheme starts from."""
    return ModernNet(
        d,
        config.width,
        config.depth,
        k,
        arch_of(config),
        activation=config.activation,
        weight_init=config.schemes[0],
        bias_init=config.bias_init,
        bias_value=config.bias_value,
        seed=config.seed,
        dtype=config.dtype,
        **init_params(config),
    )


def _std(x: np.ndarray) -> float:
    return float(np.std(x, dtype=np.float64))


def saturation_and_dead(a: np.ndarray, activation: str) -> tuple[float, float]:
    """(share of saturated outputs, share of dead units) of phi's output a (batch, units), as core.recorder:
    saturated: |a| > 0.99 (tanh), a outside [0.01, 0.99] (sigmoid); dead: 0 on every example (relu); else NaN."""
    saturated = dead = math.nan
    if activation == "tanh":
        saturated = np.count_nonzero(np.abs(a) > 0.99) / a.size
    elif activation == "sigmoid":
        saturated = np.count_nonzero((a < 0.01) | (a > 0.99)) / a.size
    elif activation == "relu":
        dead = 1.0 - np.count_nonzero((a > 0).any(axis=0)) / a.shape[1]
    return saturated, dead


def _row(net: ModernNet, layers: list[dict], G: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    act, L = net.activation, net.depth
    row = {k: np.full(L, np.nan) for k in LAYER_STATS}
    P = net.params
    for j, c in enumerate(layers):
        i = net.first_dense(j)
        a = c["a"]
        row["stream_std"][j] = _std(c["h"])
        row["branch_std"][j] = _std(c["f"]) if "f" in c else np.nan
        row["pre_std"][j] = _std(c["u"])
        row["act_std"][j] = _std(a)
        row["saturation"][j], row["dead"][j] = saturation_and_dead(a, act)
        row["grad_std"][j] = _std(G[f"W{i}"])
        row["backprop_std"][j] = _std(c["dh"])
        row["distinct"][j] = distinct_units(np.vstack([P[f"W{i}"], P[f"b{i}"][None, :]]))
        row["alpha"][j] = net.alpha(j) if net.arch.block == "residual" else 1.0
    return row


def _evaluate(net: ModernNet, X: np.ndarray, y: np.ndarray, n_train: int) -> tuple[float, ...]:
    """(train loss, train accuracy, test loss, test accuracy) from one evaluation-mode pass over train + test
    (BatchNorm's running statistics and LayerNorm treat every example on its own, so one pass is the same)."""
    logits, _ = net.forward(X, "eval")
    out: list[float] = []
    for part in (slice(0, n_train), slice(n_train, None)):
        loss, _ = softmax_cross_entropy(logits[part], y[part])
        out += [loss, float(np.mean(np.argmax(logits[part], axis=1) == y[part]))]
    return tuple(out)


def train(config: ExperimentConfig, data: DataSplit, progress: Progress = None) -> ModernRecord:
    """Train config's network on data with core.train's mini-batches (core.train.batch_indices)."""
    c = config
    d, k = data.X_train.shape[1], data.n_classes
    net = network(c, d, k)
    X = data.X_train.astype(net.dtype)
    X_all = np.concatenate([data.X_train, data.X_test]).astype(net.dtype)
    y_all = np.concatenate([data.y_train, data.y_test])
    idx = batch_indices(c, len(X))
    opt = Optimizer(c.optimizer, c.lr, {"flat": net.flat})
    stat_steps = sorted(set(range(0, c.steps + 1, c.record_every)) | {c.steps})
    hist_steps = sorted({int(round(x)) for x in np.linspace(0, c.steps, c.n_checkpoints)})
    binners = {name: Binner(lo, hi, HIST_BINS, "log10abs") for name, (lo, hi) in HIST_EDGES.items()}
    losses: list[float] = []
    evals, rows, in_std, z1_std, hists = [], [], [], [], []
    diverged_at, divergence = None, ""
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        for s in range(c.steps + 1):
            Xb, yb = X[idx[s]], data.y_train[idx[s]]
            loss, G, layers = net.loss_and_grads(Xb, yb, "train" if s < c.steps else "batch")
            # a non-finite gradient makes the next loss non-finite; the recorded steps check every gradient
            finite = math.isfinite(loss)
            if s in stat_steps:
                finite = finite and bool(np.isfinite(net.grad_flat).all())
            if s in stat_steps or not finite:
                evals.append((s, *_evaluate(net, X_all, y_all, len(X))))
                rows.append(_row(net, layers, G))
                in_std.append(_std(layers[0]["h_in"]))
                z1_std.append(_std(Xb @ net.params["W0"] + net.params["b0"]))
            if s in hist_steps:
                hists.append(
                    (
                        s,
                        [binners["stream"].count(c_["h"]) for c_ in layers],
                        [binners["grad"].count(G[f"W{net.first_dense(j)}"]) for j in range(net.depth)],
                    )
                )
            if not finite:
                diverged_at = s
                divergence = f"The loss or a gradient became infinite or NaN at step {s}."
                break
            if s < c.steps:
                losses.append(loss)
                opt.step({"flat": net.flat}, {"flat": net.grad_flat})
            if progress is not None and s % 20 == 0:
                progress(s / max(c.steps, 1), f"step {s} of {c.steps}")
    E = np.array(evals, dtype=np.float64).reshape(-1, 5)
    stats = {k: np.array([r[k] for r in rows]) for k in LAYER_STATS}

    def hist(j: int, name: str) -> Histogram:
        counts = np.array([[t[0] for t in h[j]] for h in hists], dtype=np.int64)
        zeros = np.array([[t[1] for t in h[j]] for h in hists], dtype=np.int64)
        clipped = np.array([[t[2] for t in h[j]] for h in hists], dtype=np.int64)
        return Histogram(binners[name].edges, counts, "log10abs", zeros, clipped)

    return ModernRecord(
        config=c,
        loss=np.array(losses),
        eval_steps=E[:, 0].astype(np.int64),
        train_loss=E[:, 1],
        train_acc=E[:, 2],
        test_loss=E[:, 3],
        test_acc=E[:, 4],
        layer_stats=stats,
        input_std=np.array(in_std),
        first_pre_std=np.array(z1_std),
        hist_steps=np.array([h[0] for h in hists], dtype=np.int64),
        hists={"stream": hist(1, "stream"), "grad": hist(2, "grad")},
        diverged_at=diverged_at,
        divergence=divergence,
        seconds=time.perf_counter() - t0,
    )


def run_modern(configs: Sequence[ExperimentConfig], progress: Progress = None) -> list[ModernRecord]:
    """Train each one-scheme config on its data set (loaded once per data setting); records in order."""
    from core.config import validate

    configs = list(configs)
    for c in configs:
        validate(c)
        if len(c.schemes) != 1:
            raise ValueError(f"run_modern needs one scheme per config, got schemes={c.schemes!r}")
    cache: dict = {}
    out = []
    for j, c in enumerate(configs):

        def sub(f: float, msg: str, j=j) -> None:
            if progress is not None:
                progress((j + f) / len(configs), f"network {j + 1} of {len(configs)}: {msg}")

        out.append(train(c, _load(c, cache), sub))
    if progress is not None:
        progress(1.0, "done")
    return out


# ---------------------------------------------------------------------------------------------
# Theory: the variance of the signal, block by block, at initialization.
# ---------------------------------------------------------------------------------------------


def variance_recursion(
    arch: Arch,
    activation: str,
    depth: int,
    q0: float,
    weight_var: float,
    bias_var: float = 0.0,
    slope: float = 0.01,
) -> np.ndarray:
    """Predicted variance per layer / block (length `depth`), for zero-mean Gaussian signals.

    weight_var = fan_in * Var(W) of the hidden dense layers (2 for He + ReLU); E2(q) = E[phi(z)^2], z ~ N(0, q);
    branch(q) = weight_var * E2(q) + bias_var, applied once per dense layer of the branch.
    plain, no norm: Var(z_1) = q0, Var(z_l) = weight_var * E2(Var(z_{j-1})) + bias_var (He et al. 2015).
    plain with a norm: the activation's input u = (z - mean) / sqrt(Var(z) + EPS) has variance
    n(v) = v / (v + EPS) with v = Var(z_l) = weight_var * E2(n(v_{j-1})) + bias_var and v_1 = q0: 1 unless the
    linear layer's output is as small as EPS (gamma = 1 at the start).
    residual: Var(h_0) = q0 (the stem) and Var(h_l) = Var(h_{l-1}) + alpha^2 Var(f): f's last layer has
    zero-mean weights independent of h, so f and h are uncorrelated. Var(f) = branch(Var(h_{l-1})) without
    a norm -- He + ReLU: Var(f) = 2 * Var(h)/2 = Var(h), so the variance doubles per block (Prince, UDL 11.3)
    and alpha = 1/sqrt(L) gives (1 + 1/L)^L -> e; with a norm Var(f) = branch(n(Var(h))) ~ branch(1) is a
    constant, so the variance grows linearly in j; alpha = 0 (SkipInit) leaves the stream at q0.
    Returns Var(z_l) (plain, no norm), Var(u_l) (plain with a norm), Var(h_l) (residual).
    """
    from core.theory import activation_functions, gaussian_expectation

    arch.check()
    phi, _ = activation_functions(activation, slope)

    def e2(q: float) -> float:
        return gaussian_expectation(lambda z: phi(z) ** 2, q) if q > 0 else 0.0

    def branch(q: float) -> float:
        for _ in range(arch.branch_layers):
            q = weight_var * e2(q) + bias_var
        return q

    def normed(v: float) -> float:
        return v if arch.norm == "none" else v / (v + EPS)

    out = np.empty(depth)
    q = float(q0)
    alpha2 = alpha_value(arch.alpha, depth) ** 2
    for j in range(depth):
        if arch.block == "plain":
            v = q if j == 0 else weight_var * e2(out[j - 1]) + bias_var
            q = normed(v)
        else:
            q = q + alpha2 * branch(normed(q))
        out[j] = q
    return out
