"""Training Init Lab's networks: every scheme on the same data and mini-batches, with per-layer records.

`run_experiment(config)` -> {scheme: RunRecord}; `run_many(configs)` -> [RunRecord] trains many small runs,
stacking the ones that differ only in their initialization into (K, fan_in, fan_out) arrays.

What the records hold beyond core/records.py's comments:
- Statistics at step s are measured on mini-batch s (the one update s + 1 uses); the final step's on the
  next batch of the stream. update_ratio is NaN at the last step (no update is taken there); from
  all-zero weights it is 0 if nothing moved and inf if something did. cosine is NaN for a layer
  with fewer than two nonzero incoming weight vectors (e.g. all-zero weights).
- boundary[i, j] is the class predicted at x = linspace(x0, x1, G)[j], y = linspace(y0, y1, G)[i].
- Histogram edges: one set per quantity and run, from the network at step 0 (see _make_binners).
- On divergence, every array stops before diverged_at; final_weights are the last finite ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

from core.config import BOUNDARY_GRID, ExperimentConfig, validate
from core.cpus import idle_core
from core.diagnostics import (
    TINY_SUM,
    Binner,
    layer_moments,
    percentiles,
    segment_moments,
    distinct_units,
    mean_cosine,
    nice_ceil,
    numerical_ranks,
)
from core.mlp import MLP, norm_cdf, norm_pdf
from core.records import HISTOGRAMS, LAYER_STATS, SYMMETRY_STATS, DataSplit, Histogram, RunRecord

Progress = Callable[[float, str], None] | None

# Fields that only change the initialization: configs equal in everything else train together.
INIT_FIELDS = (
    "schemes",
    "scale",
    "gain",
    "weight_std",
    "weight_const",
    "weight_bound",
    "he_mode",
    "bias_init",
    "bias_value",
)
MAX_SNAPSHOT_FLOATS = 200_000  # weight snapshots are kept when C * (number of weights) is at most this
# Stacking pays at width 32 (1.1-1.4x) in both float types, at 64 in float32 only (1.1-1.3x; float64
# 0.85-0.97x without diagnostics): benchmarks/RESULTS.md
STACK_MAX_WIDTH = {"float32": 64, "float64": 48}
STACK_MAX_K = 8
ADAM = (0.9, 0.999, 1e-8)
_BLAS: ThreadpoolController | None = None  # created on first use: scanning the loaded libraries costs ~1 ms


# Per-layer statistics, symmetry measures and histograms are computed from copies on one worker
# thread, so on a 2-core machine they overlap with training (numpy releases the GIL in them). The
# results are the same as computed inline: pure functions of the copies, taken in step order.
ASYNC_DIAGNOSTICS = True
# ... but only where a second core is idle (core.cpus.idle_core): on one CPU it overlaps nothing and costs CPU,
# and only for networks whose step is big enough (batch x weights, multiply-adds): evaluations (a few big
# matrix products, the GIL released) from ASYNC_MIN_WORK; statistics (many small numpy calls, which contend
# for the GIL with the training loop) from ASYNC_STATS_MIN_WORK. Below these the worker costs more than it
# hides (benchmarks/RESULTS.md).
ASYNC_MIN_WORK = 2e6
ASYNC_STATS_MIN_WORK = 5e7
MAX_PENDING = 4  # snapshots waiting per network before the training loop waits for the worker ...
MAX_PENDING_BYTES = 64e6  # ... and fewer when they are big (memory of a small cloud instance)
_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_PID = 0  # a forked child must not use its parent's (thread-less) executor
_EXECUTOR_LOCK = threading.Lock()


def _submit(inline: bool, fn: Callable, *args) -> Future:
    """fn(*args) on the diagnostics worker, or now if `inline`."""
    global _EXECUTOR, _EXECUTOR_PID
    if inline:
        fut: Future = Future()
        fut.set_result(fn(*args))
        return fut
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None or _EXECUTOR_PID != os.getpid():
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="initlab-diagnostics")
            _EXECUTOR_PID = os.getpid()
    return _EXECUTOR.submit(fn, *args)


def _tune_malloc(pad_bytes: int = 8 << 20, mmap_threshold: int = 16 << 20, arenas: int = 2) -> None:
    """Let glibc's malloc reuse the memory of numpy's temporaries instead of page-faulting it in anew.

    Statistics, evaluations and their temporaries allocate and free arrays of 0.1-8 MB every few steps.
    By default glibc serves every array above 128 kB with a fresh mmap, which the next use page-faults
    in (zeroed) again: at (10, 64, 128) in float64 the statistics of a recorded step took 3.0 ms instead
    of 1.6 ms. Arrays up to `mmap_threshold` now come from the heap, and `pad_bytes` of freed memory is
    kept at its top. Every thread of a Streamlit server would get a heap (an arena) of its own, up to
    8 per CPU, each keeping such memory: `arenas` caps their number (the GIL serializes most allocations
    anyway), which keeps the 30-session server's memory where it was (docs/classroom.md).
    No effect where the C library is not glibc.
    """
    try:
        import ctypes

        mallopt = ctypes.CDLL("libc.so.6").mallopt
        mallopt(-8, arenas)  # M_ARENA_MAX
        mallopt(-3, mmap_threshold)  # M_MMAP_THRESHOLD
        mallopt(-2, pad_bytes)  # M_TOP_PAD
    except (OSError, AttributeError):
        pass


_tune_malloc()


def _blas_limit(threads: int):
    """Context manager pinning the BLAS thread count (threadpoolctl)."""
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=threads, user_api="blas")


MOMENTUM = 0.9


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def run_experiment(config: ExperimentConfig, progress: Progress = None) -> dict[str, RunRecord]:
    """Train every scheme of `config` on the same data and mini-batches; one record per scheme, in order.

    `progress(fraction, message)` is called now and then while training (fraction in [0, 1]).
    """
    validate(config)
    singles = [config.replace(schemes=(s,)) for s in config.schemes]
    records = run_many(singles, progress=progress)
    return {s: dataclasses.replace(r, config=config) for s, r in zip(config.schemes, records)}


def run_many(
    configs: Sequence[ExperimentConfig], progress: Progress = None, diagnostics: bool = True
) -> list[RunRecord]:
    """Train each config (each with exactly one scheme); records in the order of `configs`.

    Configs that differ only in INIT_FIELDS are trained together in stacked arrays where that pays
    (width <= STACK_MAX_WIDTH[dtype]); records are the same as when each is trained alone.
    `diagnostics=False` records only the losses, accuracies and confusion matrix (no per-layer
    statistics, histograms, snapshots or decision boundary): for grids of many small runs.
    """
    configs = list(configs)
    for c in configs:
        if not isinstance(c, ExperimentConfig):
            raise ValueError(f"configs must be ExperimentConfig objects, got {type(c).__name__}")
        validate(c)
        if len(c.schemes) != 1:
            raise ValueError(f"run_many needs one scheme per config, got schemes={c.schemes!r}")
    groups: dict[ExperimentConfig, list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault(c.replace(**{f: getattr(ExperimentConfig(), f) for f in INIT_FIELDS}), []).append(i)
    stacks: list[list[int]] = []
    for key, members in groups.items():
        k_max = STACK_MAX_K if key.width <= STACK_MAX_WIDTH[key.dtype] else 1
        stacks += [members[i : i + k_max] for i in range(0, len(members), k_max)]
    total = sum(configs[s[0]].work * len(s) for s in stacks) or 1.0
    done = 0.0
    records: list[RunRecord | None] = [None] * len(configs)
    data_cache: dict[tuple, DataSplit] = {}
    for stack in stacks:
        cfgs = [configs[i] for i in stack]
        work = cfgs[0].work * len(cfgs)

        def sub_progress(f: float, msg: str, done=done, work=work) -> None:
            if progress is not None:
                progress(min(1.0, (done + f * work) / total), msg)

        data = _load(cfgs[0], data_cache)
        for i, rec in zip(stack, _Stack(cfgs, data, diagnostics).run(sub_progress)):
            records[i] = rec
        done += work
    if progress is not None:
        progress(1.0, "done")
    return records  # type: ignore[return-value]


def _load(c: ExperimentConfig, cache: dict) -> DataSplit:
    from core.data import load

    key = (c.dataset, c.n_samples, c.noise, c.n_classes, c.data_seed, c.input_dim)
    if key not in cache:
        cache[key] = load(c.dataset, c.n_samples, c.noise, c.n_classes, c.data_seed, dim=c.input_dim)
    return cache[key]


def blas_threads(config: ExperimentConfig) -> int:
    """BLAS threads for this config: always 1.

    A second thread gains 10-36 % at width 256 on an idle 2-core machine (PERFORMANCE.md) and slows
    width <= 64 down; but OpenBLAS threads spin, and when the other core is busy (another user's run,
    the diagnostics worker of this one) two threads were measured 10-100x slower. One thread is
    the predictable choice for a shared server.
    """
    return 1


def init_params(config: ExperimentConfig) -> dict:
    """Keyword arguments of `core.initializers.initialize` for this config."""
    return {
        "gain": config.gain,
        "scale": config.scale,
        "std": config.weight_std,
        "value": config.weight_const,
        "bound": config.weight_bound,
        "mode": config.he_mode,
        "slope": config.leaky_slope,
    }


def initial_network(config: ExperimentConfig, scheme: str, X_batch: np.ndarray | None = None) -> MLP:
    """The network `scheme` starts from under `config` (LSUV needs the first training batch)."""
    net = MLP(
        config.sizes,
        activation=config.activation,
        weight_init=scheme,
        bias_init=config.bias_init,
        seed=config.seed,
        dtype=config.dtype,
        bias_value=config.bias_value,
        **init_params(config),
    )
    if scheme == "lsuv":
        from core.initializers import lsuv

        if X_batch is None:
            raise ValueError("the lsuv scheme needs a batch of inputs (X_batch)")
        slope = config.leaky_slope
        phi = _PHI_PLAIN[config.activation]
        weights = lsuv(
            [w.astype(np.float64) for w in net.weights],
            [b.astype(np.float64) for b in net.biases],
            np.asarray(X_batch, dtype=np.float64),
            lambda z: phi(z, slope),
        )
        net.weights = [np.array(w, dtype=net.dtype) for w in weights]
    if config.output_init == "zeros":  # common practice: only the output layer starts at zero
        net.weights[-1][...] = 0
        if len(net.biases) == len(net.weights):
            net.biases[-1][...] = 0
    return net


def batch_indices(config: ExperimentConfig, n_train: int) -> np.ndarray:
    """(steps + 1, batch) sample indices: consecutive slices of a stream of random permutations.

    Batch s feeds update s + 1 (and the statistics at step s); the last one only the final statistics.
    The generator is seeded by config.seed alone, so every scheme sees the same batches.
    """
    rng = np.random.default_rng(config.seed)
    need = (config.steps + 1) * config.batch_size
    perms = [rng.permutation(n_train) for _ in range(-(-need // n_train))]
    return np.concatenate(perms)[:need].reshape(config.steps + 1, config.batch_size)


# ---------------------------------------------------------------------------------------------
# Activations on stacked arrays: forward into a buffer, and backward as an in-place product with
# phi'(z), using the output h where that is cheaper (tanh' = 1 - h^2, sigmoid' = h (1 - h)).
# ---------------------------------------------------------------------------------------------


def _plain_sigmoid(z, slope=None):
    return 1.0 / (1.0 + np.exp(-z))


_PHI_PLAIN = {
    "linear": lambda z, s=None: z,
    "tanh": lambda z, s=None: np.tanh(z),
    "sigmoid": _plain_sigmoid,
    "relu": lambda z, s=None: np.maximum(z, 0),
    "leaky_relu": lambda z, s=0.01: np.where(z > 0, z, s * z),
    "gelu": lambda z, s=None: z * norm_cdf(z),
}


def _act_forward(name: str, z: np.ndarray, out: np.ndarray, slope: float, zeros: np.ndarray) -> None:
    """out = phi(z) on arrays [z, 1] -> [h, 1] whose last column is the bias input: one pass over the
    whole contiguous buffer (a strided view costs ~2x here), then the column is set back to 1 where
    phi(1) != 1. `zeros`: an array of zeros of z's shape (np.maximum against a scalar is 3x slower)."""
    if name == "tanh":
        np.tanh(z, out=out)
    elif name == "relu":
        np.maximum(z, zeros, out=out)
    elif name == "linear":
        np.copyto(out, z)
    elif name == "sigmoid":
        np.negative(z, out=out)
        np.exp(out, out=out)  # may overflow to inf for z < -709: 1 / inf = 0 is the right answer
        out += 1.0
        np.reciprocal(out, out=out)
    elif name == "leaky_relu":
        np.multiply(z, slope, out=out)
        np.maximum(z, out, out=out)  # max(z, slope z) = leaky_relu(z) for 0 <= slope <= 1
    else:  # gelu
        np.multiply(z, norm_cdf(z), out=out)
    if name not in ("relu", "linear", "leaky_relu"):  # these keep 1 at 1
        out[..., -1] = 1.0


def _act_backward(name: str, g: np.ndarray, z: np.ndarray, h: np.ndarray, slope: float) -> None:
    """g *= phi'(z), in place."""
    if name == "tanh":
        t = h * h
        np.subtract(1.0, t, out=t)
        g *= t
    elif name == "relu":
        g *= z > 0
    elif name == "linear":
        pass
    elif name == "sigmoid":
        t = 1.0 - h
        t *= h
        g *= t
    elif name == "leaky_relu":
        g *= np.where(z > 0, 1.0, slope).astype(g.dtype)
    else:  # gelu
        g *= (norm_cdf(z) + z * norm_pdf(z)).astype(g.dtype)


# ---------------------------------------------------------------------------------------------
# K networks of one shape in flat buffers: params (K, P); layer j is the view Wa[j] (K, n_in + 1, n_out)
# whose last row is the bias, so z = [h, 1] @ Wa is one matmul and so is its gradient [h, 1]^T dz.
# The hidden layers' buffers [z, 1], [h, 1] and [dz, 0] all carry that extra column, so activations and
# their derivatives run over whole contiguous arrays (the matmuls write the strided views z and dz).
# ---------------------------------------------------------------------------------------------


class _Stack:
    def __init__(self, configs: list[ExperimentConfig], data: DataSplit, diagnostics: bool) -> None:
        c = configs[0]
        self.configs, self.c, self.data, self.diag = configs, c, data, diagnostics
        self.K = len(configs)
        self.sizes = c.sizes
        self.L = c.depth
        self.dtype = np.dtype(c.dtype)
        self.act, self.slope = c.activation, float(c.leaky_slope)
        self.B = c.batch_size
        sizes = self.sizes
        self.shapes = [(a + 1, b) for a, b in zip(sizes[:-1], sizes[1:])]
        offs = np.cumsum([0] + [a * b for a, b in self.shapes])
        self.offs, self.P = offs, int(offs[-1])
        # each layer's weights without the bias row: (starts, stops) in a row of params
        self.weight_segments = (offs[:-1], offs[:-1] + [(a - 1) * b for a, b in self.shapes])
        # evaluations and statistics on the worker thread, or inline (see ASYNC_MIN_WORK)
        work, threaded = c.batch_size * self.P * self.K, ASYNC_DIAGNOSTICS and idle_core()
        self.eval_inline = not threaded or work < ASYNC_MIN_WORK
        self.stats_inline = not threaded or work < ASYNC_STATS_MIN_WORK
        self.params = np.zeros((self.K, self.P), dtype=self.dtype)
        self.grads = np.zeros_like(self.params)
        self.Wa = self._views(self.params)
        self.Ga = self._views(self.grads)
        n_train = len(data.y_train)
        self.idx = batch_indices(c, n_train)
        d, k = sizes[0], sizes[-1]
        self.Xa_train = np.ones((n_train, d + 1), dtype=self.dtype)
        self.Xa_train[:, :d] = data.X_train
        self.onehot = np.zeros((n_train, k), dtype=self.dtype)  # divided by the batch size (see the loss)
        self.onehot[np.arange(n_train), data.y_train] = 1.0 / c.batch_size
        self.Xa_eval = np.ones((n_train + len(data.y_test), d + 1), dtype=self.dtype)
        self.Xa_eval[:, :d] = np.concatenate([data.X_train, data.X_test])
        self.y_eval = np.concatenate([data.y_train, data.y_test])
        self.n_train = n_train
        # the network every scheme starts from (LSUV: rescaled on batch 0)
        X0 = data.X_train[self.idx[0]]
        for i, cfg in enumerate(configs):
            with _blas_limit(blas_threads(cfg)):  # orthogonal / LSUV QRs: threads that spin cost 3x here
                net = initial_network(cfg, cfg.schemes[0], X0)
            for j, (W, b) in enumerate(zip(net.weights, net.biases)):
                self.Wa[j][i, :-1] = W
                self.Wa[j][i, -1] = b
        # forward / backward buffers; the hidden activations carry a column of ones for the bias
        B = self.B
        self.Xb = np.empty((B, d + 1), dtype=self.dtype)
        self.Yb = np.empty((B, k), dtype=self.dtype)
        self.ones_k = np.ones((k, 1), dtype=self.dtype)
        self.ones_P = np.ones(self.P, dtype=self.dtype)  # x @ ones: a finiteness check 2x cheaper than sum
        # hidden layers in one array each (layer axis first), so statistics take one call for all layers
        n, L = c.width, self.L
        # pre-activations carry the column of ones too, so the activation runs over whole buffers
        self.Zall = np.ones((L, self.K, B, n + 1), dtype=self.dtype)  # [z, 1]
        self.Zh = self.Zall[..., :-1]
        self.Hall = np.ones((L, self.K, B, n + 1), dtype=self.dtype)  # [h, 1]
        self.DZall = np.zeros((L, self.K, B, n + 1), dtype=self.dtype)  # [dLoss/dz, 0]
        self.DZ = self.DZall[..., :-1]
        self.Z = [self.Zh[j] for j in range(L)] + [np.empty((self.K, B, k), dtype=self.dtype)]
        self.Za = [self.Zall[j] for j in range(L)]
        self.Ha = [self.Hall[j] for j in range(L)]
        self.zeros = np.zeros(self.Za[0].shape, dtype=self.dtype) if self.act == "relu" else None
        # views made once (they follow the buffers): [h, 1]^T for dW, W^T (without the bias row) for dh
        self.HaT = [h.transpose(0, 2, 1) for h in self.Ha]
        self.WT = [None] + [w[:, :-1, :].transpose(0, 2, 1) for w in self.Wa[1:]]
        # up to width 64, copying W^T to a contiguous buffer makes dh's GEMM faster (not at 256)
        self.WT_buf = [None] + [np.empty(w.shape, dtype=self.dtype) for w in self.WT[1:]] if n <= 64 else None
        self.eval_buffers: tuple[np.ndarray, ...] | None = None  # see logits
        # optimizer state
        self.opt = c.optimizer
        self.lr = float(c.lr)
        self.t = 0
        self.frozen: dict[int, np.ndarray] = {}
        if self.opt in ("momentum", "adam"):
            self.m = np.zeros_like(self.params)
        if self.opt == "adam":
            self.v = np.zeros_like(self.params)

    def _views(self, flat: np.ndarray) -> list[np.ndarray]:
        return [
            flat[:, self.offs[j] : self.offs[j + 1]].reshape(self.K, a, b)
            for j, (a, b) in enumerate(self.shapes)
        ]

    # ----------------------------------------------------------------------- one training step
    def forward(self) -> None:
        h = self.Xb
        for j in range(self.L):
            np.matmul(h, self.Wa[j], out=self.Z[j])
            _act_forward(self.act, self.Za[j], self.Ha[j], self.slope, self.zeros)
            h = self.Ha[j]
        np.matmul(h, self.Wa[self.L], out=self.Z[self.L])

    def loss_and_backward(self) -> tuple[np.ndarray, np.ndarray]:
        """Mini-batch loss per network (K,) and dLoss/dlogits; gradients into self.grads, dz into self.DZ."""
        logits = self.Z[self.L]
        # log-sum-exp shifted by each network's largest logit: one reduction, not one per example
        shifted = logits - logits.max(axis=(1, 2), keepdims=True)
        e = np.exp(shifted)
        s = np.matmul(e, self.ones_k)  # (K, B, 1): the sum over the classes
        # an example whose exponentials all underflow (far below the largest logit), or a NaN: shift each
        # example by its own largest logit
        if not s.min() >= TINY_SUM[self.dtype]:
            np.subtract(logits, logits.max(axis=2, keepdims=True), out=shifted)
            np.exp(shifted, out=e)
            np.matmul(e, self.ones_k, out=s)
        # Yb is one-hot / B: the loss is the batch mean of log-sum-exp minus the true class's logit
        loss = np.log(s).sum(axis=(1, 2)) * (1.0 / self.B) - np.einsum("kbc,bc->k", shifted, self.Yb)
        s *= self.B
        dz = e
        dz /= s
        dz -= self.Yb
        dz_out = dz
        for j in range(self.L, 0, -1):
            np.matmul(self.HaT[j - 1], dz, out=self.Ga[j])
            if self.WT_buf is not None:
                np.copyto(self.WT_buf[j], self.WT[j])
                np.matmul(dz, self.WT_buf[j], out=self.DZ[j - 1])
            else:
                np.matmul(dz, self.WT[j], out=self.DZ[j - 1])
            # on the whole buffers: phi'(1) of the bias column multiplies its zeros
            _act_backward(self.act, self.DZall[j - 1], self.Za[j - 1], self.Ha[j - 1], self.slope)
            dz = self.DZ[j - 1]
        np.matmul(self.Xb.T, dz, out=self.Ga[0])
        return loss, dz_out

    def delta(self) -> np.ndarray:
        """The update the optimizer takes from the gradients in self.grads (written over them)."""
        g, lr = self.grads, self.lr
        self.t += 1
        if self.opt == "sgd":
            g *= -lr
            return g
        if self.opt == "momentum":
            # PyTorch's form: v <- mu v + g, W <- W - lr v
            self.m *= MOMENTUM
            self.m += g
            return np.multiply(self.m, -lr, out=g)
        b1, b2, eps = ADAM
        self.m *= b1
        self.m += (1.0 - b1) * g
        g *= g
        self.v *= b2
        g *= 1.0 - b2
        self.v += g
        bc1, bc2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        np.sqrt(self.v, out=g)
        g *= 1.0 / math.sqrt(bc2)
        g += eps
        np.divide(self.m, g, out=g)
        g *= -lr / bc1
        return g

    def load_batch(self, s: int) -> None:
        # mode="clip": the indices are valid, and "raise" would copy through a temporary
        np.take(self.Xa_train, self.idx[s], axis=0, out=self.Xb, mode="clip")
        np.take(self.onehot, self.idx[s], axis=0, out=self.Yb, mode="clip")

    # ----------------------------------------------------------------------- evaluation
    def logits(self, Xa: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        """Logits (K, N, k) of every network on inputs [X, 1]; `params` (K, P) defaults to the current ones."""
        Wa = self.Wa if params is None else self._views(params)
        N = len(Xa)
        if self.eval_buffers is None or self.eval_buffers[0].shape[1] < N:
            # kept for the run: fresh arrays of this size would be page-faulted in at every evaluation
            shape = (self.K, N, self.c.width + 1)
            self.eval_buffers = (
                np.ones(shape, dtype=self.dtype),  # [z, 1]
                np.ones(shape, dtype=self.dtype),  # [h, 1], two: one layer's input, the next's output
                np.ones(shape, dtype=self.dtype),
                np.zeros(shape, dtype=self.dtype) if self.act == "relu" else None,
            )
        za, *ha, zeros = (None if b is None else b[:, :N] for b in self.eval_buffers)
        h = Xa
        for j in range(self.L):
            np.matmul(h, Wa[j], out=za[..., :-1])
            _act_forward(self.act, za, ha[j % 2], self.slope, zeros)
            h = ha[j % 2]
        return np.matmul(h, Wa[self.L])

    def evaluate(self, params: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """(train_loss, test_loss, train_acc, test_acc), each (K,), on the whole train and test splits."""
        with np.errstate(all="ignore"):  # also when run on the diagnostics worker
            return self._evaluate(params)

    def _evaluate(self, params: np.ndarray | None) -> tuple[np.ndarray, ...]:
        z = self.logits(self.Xa_eval, params).astype(np.float64)  # a float32 loss beyond 3e38 is finite here
        shifted = z - z.max(axis=2, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=2))
        rows = np.arange(len(self.y_eval))
        nll = lse - shifted[:, rows, self.y_eval]
        correct = np.argmax(z, axis=2) == self.y_eval
        n = self.n_train
        return nll[:, :n].mean(1), nll[:, n:].mean(1), correct[:, :n].mean(1), correct[:, n:].mean(1)

    # ----------------------------------------------------------------------- the loop
    def run(self, progress: Callable[[float, str], None], evaluate: bool = True) -> list[RunRecord]:
        """Train every network of the stack; `evaluate=False` (benchmarks only) skips the full-data evals."""
        c, K, L = self.c, self.K, self.L
        steps = c.steps
        stat_steps = sorted(set(range(0, steps + 1, c.record_every)) | {steps})
        n_ck = c.n_checkpoints
        hist_steps = sorted({int(round(x)) for x in np.linspace(0, steps, n_ck)}) if self.diag else []
        stat_set, hist_set = set(stat_steps) if evaluate else set(), set(hist_steps)
        rec = [_Recorder(self, i, stat_steps, hist_steps) for i in range(K)]
        alive = np.ones(K, dtype=bool)
        losses = np.zeros((steps, K))
        evals: list[tuple[int, np.ndarray, Future]] = []
        evals_done = 0
        every = max(1, steps // 50)
        t0, cpu0 = time.perf_counter(), time.process_time()
        threads = blas_threads(c)
        with _blas_limit(threads), np.errstate(all="ignore"):
            for s in range(steps + 1):
                recording = s in stat_set
                histing = s in hist_set
                keep = self.diag and (recording or histing)
                self.load_batch(s)
                self.forward()
                loss, dz_out = self.loss_and_backward()
                if not np.isfinite(loss).all():
                    for i in np.flatnonzero(~np.isfinite(loss) & alive):
                        rec[i].diverge(s, f"the mini-batch loss became {_word(loss[i])}")
                    alive &= np.isfinite(loss)
                if s < steps:
                    losses[s] = loss
                if recording:  # on a copy of the weights, on the worker: it overlaps with training
                    params = self.params if self.eval_inline else self.params.copy()
                    evals.append((s, np.flatnonzero(alive), _submit(self.eval_inline, self.evaluate, params)))
                    limit = max(1, min(MAX_PENDING, int(MAX_PENDING_BYTES // self.params.nbytes)))
                    while len(evals) - evals_done > limit:  # bound the copies waiting for the worker
                        evals[evals_done][2].result()
                        evals_done += 1
                if keep:
                    for i in np.flatnonzero(alive):
                        rec[i].stats(s, dz_out, recording, histing)
                if s == steps or not alive.any():
                    break
                delta = self.delta()  # written over self.grads
                if not np.isfinite(delta @ self.ones_P).all():
                    # some update is NaN or infinite (or only its sum overflowed): find whose
                    ok = np.isfinite(delta).all(axis=1)
                    for i in np.flatnonzero(~ok & alive):
                        j = next(j for j in range(L + 1) if not np.isfinite(self._layer(delta, i, j)).all())
                        rec[i].diverge(s + 1, f"the update of layer {j + 1}'s weights was infinite or NaN")
                    alive &= ok
                if self.diag and recording:
                    for i in np.flatnonzero(alive):
                        rec[i].update_ratio(s, delta)
                if not alive.all():
                    delta[~alive] = 0.0
                self.params += delta
                if not np.isfinite(self.params @ self.ones_P).all():
                    over = ~np.isfinite(self.params).all(axis=1) & alive
                    for i in np.flatnonzero(over):  # W + delta overflowed although both were finite
                        self.params[i] -= delta[i]
                        rec[i].diverge(s + 1, "the weights overflowed to infinity")
                    alive &= ~over
                if not alive.all():
                    self._freeze(~alive)
                if s % every == 0:
                    progress(s / max(steps, 1), f"step {s} of {steps}")
            for s, who, fut in evals:
                ev = fut.result()
                for i in who:
                    rec[i].eval_point(s, [e[i] for e in ev])
            for r in rec:
                r.finish()
        seconds = time.perf_counter() - t0
        self.cpu_seconds = time.process_time() - cpu0  # benchmarks: robust to other load on the machine
        with _blas_limit(threads), np.errstate(all="ignore"):
            final = self._final(rec)
        self.eval_buffers = None
        return [r.record(losses[:, i], seconds, final[i]) for i, r in enumerate(rec)]

    def groups(self, row: np.ndarray) -> list[np.ndarray]:
        """The layers of one network's row of `params` (or grads) as stacks of equal shape (views): the
        hidden layers [1..L (L, n + 1, n)] if the input is as wide as they are, else [layer 1 (1, d + 1, n)]
        and [layers 2..L (L - 1, n + 1, n)] if L > 1; then [output (1, n + 1, k)]."""
        L, offs, (a0, b0), (aL, bL) = self.L, self.offs, self.shapes[0], self.shapes[-1]
        if self.shapes[1:L] == [(a0, b0)] * (L - 1):
            out = [row[: offs[L]].reshape(L, a0, b0)]
        else:
            out = [row[: offs[1]].reshape(1, a0, b0), row[offs[1] : offs[L]].reshape(L - 1, *self.shapes[1])]
        out.append(row[offs[L] :].reshape(1, aL, bL))
        return out

    def _layer(self, flat: np.ndarray, i: int, j: int) -> np.ndarray:
        return flat[i, self.offs[j] : self.offs[j + 1]]

    def _freeze(self, dead: np.ndarray) -> None:
        """Keep a diverged network's last finite weights aside and zero it, so it costs nothing and
        cannot overflow while the others go on."""
        for i in np.flatnonzero(dead):
            if i not in self.frozen:
                self.frozen[i] = self.params[i].copy()
        self.params[dead] = 0.0
        if self.opt in ("momentum", "adam"):
            self.m[dead] = 0.0
        if self.opt == "adam":
            self.v[dead] = 0.0

    def _final(self, rec: list[_Recorder]) -> list[dict]:
        """Weights, confusion matrix and decision boundary at the last finite step of each network."""
        for i, w in self.frozen.items():
            self.params[i] = w
        k = self.sizes[-1]
        z = self.logits(self.Xa_eval[self.n_train :])
        pred = np.argmax(z, axis=2)
        out = []
        for i in range(self.K):
            conf = np.zeros((k, k), dtype=np.int64)
            np.add.at(conf, (self.data.y_test, pred[i]), 1)
            out.append(
                {
                    "weights": tuple(self.Wa[j][i, :-1].copy() for j in range(self.L + 1)),
                    "biases": tuple(self.Wa[j][i, -1].copy() for j in range(self.L + 1)),
                    "confusion": conf,
                }
            )
        if self.diag and self.sizes[0] == 2:
            X = np.concatenate([self.data.X_train, self.data.X_test])
            lo, hi = X.min(axis=0), X.max(axis=0)
            pad = 0.1 * (hi - lo)
            x0, x1, y0, y1 = lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]
            G = BOUNDARY_GRID
            gx, gy = np.meshgrid(np.linspace(x0, x1, G), np.linspace(y0, y1, G))
            Xa = np.ones((G * G, 3), dtype=self.dtype)
            Xa[:, 0], Xa[:, 1] = gx.ravel(), gy.ravel()
            # in chunks the size of the evaluation's buffers: a G x G grid would need buffers 5x as big
            n = len(self.Xa_eval)
            z = np.concatenate([self.logits(Xa[a : a + n]) for a in range(0, len(Xa), n)], axis=1)
            p = np.exp(z - z.max(axis=2, keepdims=True))
            p /= p.sum(axis=2, keepdims=True)
            for i in range(self.K):
                out[i]["boundary"] = np.argmax(z[i], axis=1).reshape(G, G)
                out[i]["boundary_prob"] = p[i].max(axis=1).reshape(G, G).astype(np.float64)
                out[i]["boundary_extent"] = tuple(float(v) for v in (x0, x1, y0, y1))
        return out


def _word(x: float) -> str:
    return "NaN" if np.isnan(x) else "infinite"


# ---------------------------------------------------------------------------------------------
# What one network of a stack records.
# ---------------------------------------------------------------------------------------------


class _Recorder:
    def __init__(self, st: _Stack, i: int, stat_steps: list[int], hist_steps: list[int]) -> None:
        self.st, self.i = st, i
        self.stat_steps, self.hist_steps = stat_steps, hist_steps
        self.eval_rows: list[tuple[int, list[float]]] = []
        self.stat_rows: list[tuple[int, dict, dict, np.ndarray]] = []  # (step, row, symmetry, |W|^2)
        self.hist_rows: list[tuple[int, dict]] = []
        self.snapshots: list[tuple[np.ndarray, ...]] = []
        self.binners: dict[str, Binner] | None = None
        self.futures: list[Future] = []
        self.n_done = 0
        self.update_sq: dict[int, np.ndarray] = {}  # |delta W|^2 per layer of the update at a recorded step
        self.diverged_at: int | None = None
        self.divergence = ""
        n_w = sum(a * b for a, b in zip(st.sizes[:-1], st.sizes[1:]))
        self.keep_snapshots = len(hist_steps) * n_w <= MAX_SNAPSHOT_FLOATS

    def diverge(self, step: int, why: str) -> None:
        if self.diverged_at is None:
            self.diverged_at = step
            self.divergence = (
                f"Training stopped at step {step}: {why}. The step size or the initial weights are too "
                "large for this network; the records end at the last finite step."
            )

    def eval_point(self, s: int, values: list[float]) -> None:
        self.eval_rows.append((s, [float(v) for v in values]))

    def stats(self, s: int, dz_out: np.ndarray, stat: bool, hist: bool) -> None:
        """Copy what step s's statistics need and hand it to the diagnostics worker (or compute them now)."""
        st, i, L = self.st, self.i, self.st.L
        take = (lambda a: a) if st.stats_inline else np.copy
        snap = {
            # (3L, B, n), a copy in both cases: hidden activations h, pre-activations z, dLoss/dz
            "HZD": np.concatenate([st.Hall[:, i, :, :-1], st.Zh[:, i], st.DZ[:, i]]),
            "out": take(st.Z[L][i]),  # logits (B, k)
            "dout": take(dz_out[i]),
            "params": take(st.params[i]),
            "grads": take(st.grads[i]),
        }
        self.futures.append(_submit(st.stats_inline, self._compute, s, snap, stat, hist))
        nbytes = sum(a.nbytes for a in snap.values())
        while len(self.futures) - self.n_done > max(1, min(MAX_PENDING, int(MAX_PENDING_BYTES // nbytes))):
            self.futures[self.n_done].result()
            self.n_done += 1

    def finish(self) -> None:
        """Wait for the worker and collect the statistics in step order."""
        for fut in self.futures:
            row, hist = fut.result()
            if row is not None:
                self.stat_rows.append(row)
            if hist is not None:
                self.hist_rows.append(hist[:2])
                if hist[2] is not None:
                    self.snapshots.append(hist[2])
        self.futures, self.n_done = [], 0

    def _compute(self, s: int, snap: dict, stat: bool, hist: bool):
        with np.errstate(all="ignore"):
            row = self._stats(s, snap) if stat else None
            h = None
            if hist:
                st = self.st
                L = st.L
                hs = list(snap["HZD"][:L]) + [snap["out"]]
                zs = list(snap["HZD"][L : 2 * L]) + [snap["out"]]
                Ws = [w[:-1] for g in st.groups(snap["params"]) for w in g]
                Gs = [w[:-1] for g in st.groups(snap["grads"]) for w in g]
                h = self._hist(s, hs, zs, Ws, Gs)
        return row, h

    def _stats(self, s: int, snap: dict) -> tuple:
        """Per-layer statistics of network i, each computed for all hidden layers in one call."""
        st, L = self.st, self.st.L
        act = st.act
        out, dout = snap["out"], snap["dout"]
        HZD = snap["HZD"]
        H = HZD[:L]
        row = dict(zip(LAYER_STATS, np.full((len(LAYER_STATS), L + 1), np.nan)))
        # one call for each set of equal shapes: [h, z, dz] of the hidden layers, [logits, dlogits], and
        # [W, dW] of each group of equal-shaped layers
        mean, std, _ = layer_moments(HZD)
        row["act_mean"][:L], row["act_std"][:L] = mean[:L], std[:L]
        row["pre_std"][:L], row["backprop_std"][:L] = std[L : 2 * L], std[2 * L :]
        mean, std, _ = layer_moments(np.stack([out, dout]))
        row["act_mean"][L], row["act_std"][L], row["pre_std"][L], row["backprop_std"][L] = (
            mean[0],
            std[0],
            std[0],
            std[1],
        )
        size = H.shape[1] * H.shape[2]
        # counts layer by layer: count_nonzero with an axis is 3x slower than without
        if act == "tanh":
            row["saturation"][:L] = [np.count_nonzero(m) / size for m in np.abs(H) > 0.99]
        elif act == "sigmoid":
            row["saturation"][:L] = [np.count_nonzero(m) / size for m in (H < 0.01) | (H > 0.99)]
        elif act == "relu":
            row["dead"][:L] = [1.0 - np.count_nonzero(m) / H.shape[2] for m in (H > 0).any(axis=1)]
        _, row["weight_std"][:], w2 = segment_moments(snap["params"], *st.weight_segments)
        _, row["grad_std"][:], g2 = segment_moments(snap["grads"], *st.weight_segments)
        row["grad_norm"][:] = np.sqrt(g2)
        hidden = self._hidden_weights(snap["params"])
        sym = {
            "distinct": np.asarray(distinct_units(hidden), dtype=np.float64).reshape(L),
            "cosine": np.asarray(mean_cosine(hidden[:, :-1]), dtype=np.float64).reshape(L),
            "rank": numerical_ranks(H).astype(np.float64),
        }
        return (s, row, sym, w2)

    def _hidden_weights(self, params: np.ndarray) -> np.ndarray:
        """W_aug of every hidden layer (L, F, n), float64, bias as the last row: one stack for the symmetry
        measures. A first layer narrower than the others is padded with zero rows before its bias row;
        zeros change neither a unit's distance to another, nor its norm, nor a cosine."""
        st, L = self.st, self.st.L
        groups = st.groups(params)[:-1]
        if len(groups) == 1:
            return groups[0].astype(np.float64)
        out = np.zeros((L, max(g.shape[1] for g in groups), st.c.width), dtype=np.float64)
        j = 0
        for g in groups:
            out[j : j + len(g), : g.shape[1] - 1] = g[:, :-1]
            out[j : j + len(g), -1] = g[:, -1]
            j += len(g)
        return out

    def update_ratio(self, s: int, delta: np.ndarray) -> None:
        """|delta W|^2 per layer for the update about to be taken; record() divides by |W|^2 of step s's
        statistics (the same weights: the update is not taken yet)."""
        # segment_moments: float32 updates of ~1e-20 do not underflow to a ratio of 0
        self.update_sq[s] = segment_moments(delta[self.i], *self.st.weight_segments)[2]

    def _hist(self, s, hs, zs, Ws, Gs) -> tuple:
        if self.binners is None:  # edges from the first checkpoint (the worker runs tasks in step order)
            self.binners = _make_binners(self.st.act, hs, zs, Ws, Gs)
        vals = {"act": hs, "act_log": hs, "pre": zs, "weight": Ws, "grad": Gs}
        counts = {q: [self.binners[q].count(v) for v in vals[q]] for q in HISTOGRAMS}
        snapshot = tuple(W.astype(np.float32) for W in Ws) if self.keep_snapshots else None
        return (s, counts, snapshot)

    def record(self, losses: np.ndarray, seconds: float, final: dict) -> RunRecord:
        st, c, L = self.st, self.st.c, self.st.L
        end = self.diverged_at
        if end is not None:
            losses = losses[:end]
        keep = [r for r in self.eval_rows if end is None or r[0] < end]
        eval_steps = np.array([r[0] for r in keep], dtype=np.int64)
        ev = np.array([r[1] for r in keep], dtype=np.float64).reshape(len(keep), 4)
        stats = [r for r in self.stat_rows if end is None or r[0] < end]
        for step, row, _, w2 in stats:
            if step in self.update_sq:
                d2 = self.update_sq[step]
                with np.errstate(divide="ignore", invalid="ignore"):
                    # from all-zero weights: 0 if nothing moved, inf if anything did
                    row["update_ratio"][:] = np.where(
                        w2 > 0, np.sqrt(d2) / np.sqrt(w2), np.where(d2 > 0, np.inf, 0.0)
                    )
        if st.diag:
            layer_stats = {
                n: np.array([r[1][n] for r in stats]).reshape(len(stats), L + 1) for n in LAYER_STATS
            }
            symmetry = {n: np.array([r[2][n] for r in stats]).reshape(len(stats), L) for n in SYMMETRY_STATS}
        else:
            layer_stats, symmetry = {}, {}
        hrows = [r for r in self.hist_rows if end is None or r[0] < end]
        hists = {}
        if self.binners is not None:
            for q in HISTOGRAMS:
                b = self.binners[q]
                hists[q] = Histogram(
                    edges=b.edges,
                    counts=np.array([[t[0] for t in r[1][q]] for r in hrows], dtype=np.int64).reshape(
                        len(hrows), L + 1, b.n_bins
                    ),
                    transform=b.transform,
                    zeros=np.array([[t[1] for t in r[1][q]] for r in hrows], dtype=np.int64).reshape(
                        len(hrows), L + 1
                    ),
                    clipped=np.array([[t[2] for t in r[1][q]] for r in hrows], dtype=np.int64).reshape(
                        len(hrows), L + 1
                    ),
                )
        n_used = len(losses)
        digest = hashlib.sha1(np.ascontiguousarray(st.idx[:n_used], dtype="<i8").tobytes()).hexdigest()
        return RunRecord(
            scheme=st.configs[self.i].schemes[0],
            config=st.configs[self.i],
            sizes=tuple(st.sizes),
            loss=np.asarray(losses, dtype=np.float64).copy(),
            eval_steps=eval_steps,
            train_loss=ev[:, 0].copy(),
            test_loss=ev[:, 1].copy(),
            train_acc=ev[:, 2].copy(),
            test_acc=ev[:, 3].copy(),
            stat_steps=eval_steps.copy(),
            layer_stats=layer_stats,
            symmetry=symmetry,
            hist_steps=np.array([r[0] for r in hrows], dtype=np.int64),
            hists=hists,
            weight_snapshots=tuple(self.snapshots[: len(hrows)]),
            # Kept only for small networks (the Symmetry lesson): at 50 x 256 they are 25 MB a scheme,
            # copied out of the shared cache for every student who opens the link.
            final_weights=final["weights"]
            if sum(w.size for w in final["weights"]) <= MAX_SNAPSHOT_FLOATS
            else (),
            final_biases=final["biases"],
            confusion=final["confusion"],
            boundary=final.get("boundary"),
            boundary_prob=final.get("boundary_prob"),
            boundary_extent=final.get("boundary_extent"),
            diverged_at=self.diverged_at,
            divergence=self.divergence,
            batch_digest=digest,
            seconds=seconds,
            extra={"stacked_with": st.K, "blas_threads": blas_threads(c)},
        )


def _make_binners(act: str, hs, zs, Ws, Gs) -> dict[str, Binner]:
    """Edges for each quantity from this network at its first checkpoint (the initialization).

    act: [-1.05, 1.05] for tanh, [-0.05, 1.05] for sigmoid (the logits of the output layer are
    clipped into the end bins there), else symmetric over 1.2x the largest 99.9th percentile of |h|
    over layers; act_log: log10|h| over every layer's 0.1 - 99.9th percentile (a layer 1e-12 the size of
    another keeps its shape there); pre: the same rule as act on z; weight: symmetric over 1.5x the largest |W|; grad:
    log10|g| over at least [-12, 2], widened to hold every layer's 0.1 - 99.9th percentile.
    """

    def robust(arrays, q=99.9) -> float:
        m = max(percentiles(np.abs(a), [q])[0] if a.size else 0.0 for a in arrays)
        return nice_ceil(m) if m > 0 and math.isfinite(m) else 1.0

    if act == "tanh":
        act_b = Binner(-1.05, 1.05, 42)
    elif act == "sigmoid":
        act_b = Binner(-0.05, 1.05, 44)
    else:
        r = robust([h * 1.2 for h in hs])
        act_b = Binner(-r, r, 60)
    r_pre = robust([z * 1.2 for z in zs])
    w_max = max(float(np.abs(W).max()) for W in Ws)
    r_w = nice_ceil(1.5 * w_max) if w_max > 0 else 1.0
    lo, hi = -12.0, 2.0
    ends = _log_ends(Gs)
    if ends:
        lo = min(lo, math.floor(min(e[0] for e in ends) - 0.5))
        hi = max(hi, math.ceil(max(e[1] for e in ends) + 0.5))
    lo = max(lo, -320.0)
    return {
        "act": act_b,
        "act_log": _log_binner(hs),
        "pre": Binner(-r_pre, r_pre, 60),
        "weight": Binner(-r_w, r_w, 60),
        "grad": Binner(lo, hi, int(round(4 * (hi - lo))) if hi - lo <= 24 else 96, "log10abs"),
    }


def _log_binner(arrays) -> Binner:
    """log10|value| bins over every layer's 0.1 - 99.9th percentile (whole decades, at least two)."""
    ends = _log_ends(arrays)
    lo = min((e[0] for e in ends), default=-1.0)
    hi = max((e[1] for e in ends), default=1.0)
    lo, hi = max(math.floor(lo - 0.5), -320), math.ceil(hi + 0.5)
    if hi - lo < 2:
        lo, hi = lo - 1, hi + 1
    return Binner(lo, hi, int(min(4 * (hi - lo), 96)), "log10abs")


def _log_ends(arrays) -> list[list[float]]:
    """log10 of the 0.1th and 99.9th percentiles of |value| over the nonzero finite values of each array."""
    ends = []
    for a in arrays:
        v = np.abs(a[(a != 0) & np.isfinite(a)])
        if v.size:
            ends.append([math.log10(x) for x in percentiles(v, [0.1, 99.9])])
    return ends
