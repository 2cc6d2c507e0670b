"""The training engine: K networks of one shape trained together in flat numpy buffers (forward, backward,
optimizer, evaluation), speed-tuned; tests/test_train.py holds it to the readable reference network, core/mlp.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

from core.activations import ACTIVATIONS, Activation, phi_of
from core.config import BOUNDARY_GRID, ExperimentConfig
from core.diagnostics import TINY_SUM
from core.initializers import PARAMS
from core.losses import nll, softmax
from core.mlp import MLP
from core.process import blas_limit, idle_core, submit
from core.recorder import MAX_PENDING, MAX_PENDING_BYTES, Recorder
from core.records import DataSplit, RunRecord

ADAM = (0.9, 0.999, 1e-8)
MOMENTUM = 0.9

# Per-layer statistics, symmetry measures and histograms are computed from copies on one worker
# thread (core.process.submit), so on a 2-core machine they overlap with training (numpy releases the
# GIL in them). The results are the same as computed inline: pure functions of the copies, taken in step order.
ASYNC_DIAGNOSTICS = True
# ... but only where a second core is idle (core.process.idle_core): on one CPU it overlaps nothing and costs
# CPU, and only for networks whose step is big enough (batch x weights, multiply-adds): evaluations (a few big
# matrix products, the GIL released) from ASYNC_MIN_WORK; statistics (many small numpy calls, which contend
# for the GIL with the training loop) from ASYNC_STATS_MIN_WORK. Below these the worker costs more than it
# hides (benchmarks/RESULTS.md).
ASYNC_MIN_WORK = 2e6
ASYNC_STATS_MIN_WORK = 5e7


def blas_threads(config: ExperimentConfig) -> int:
    """BLAS threads for this config: always 1.

    A second thread helps only wide networks on an idle machine, and spinning OpenBLAS threads are far
    slower when the other core is busy (docs/performance.md): one thread is the predictable choice for
    a shared server.
    """
    return 1


def init_params(config: ExperimentConfig) -> dict:
    """Keyword arguments of `core.initializers.initialize` for this config: every registry parameter."""
    return {name: getattr(config, p.field) for name, p in PARAMS.items()}


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
        weights = lsuv(
            [w.astype(np.float64) for w in net.weights],
            [b.astype(np.float64) for b in net.biases],
            np.asarray(X_batch, dtype=np.float64),
            phi_of(config.activation, config.leaky_slope),  # as the engine computes it
        )
        net.weights = [np.array(w, dtype=net.dtype) for w in weights]
    if config.output_init == "zeros":  # common practice: only the output layer starts at zero
        net.weights[-1][...] = 0
        if len(net.biases) == len(net.weights):
            net.biases[-1][...] = 0
    return net


def load_data(c: ExperimentConfig, cache: dict) -> DataSplit:
    """config's data set, loaded once per data setting into `cache`."""
    from core.data import load

    key = (c.dataset, c.n_samples, c.noise, c.n_classes, c.data_seed, c.input_dim)
    if key not in cache:
        cache[key] = load(c.dataset, c.n_samples, c.noise, c.n_classes, c.data_seed, dim=c.input_dim)
    return cache[key]


def batch_indices(config: ExperimentConfig, n_train: int) -> np.ndarray:
    """(steps + 1, batch) sample indices: consecutive slices of a stream of random permutations.

    Batch s feeds update s + 1 (and the statistics at step s); the last one only the final statistics.
    The generator is seeded by config.seed alone, so every scheme sees the same batches.
    """
    rng = np.random.default_rng(config.seed)
    need = (config.steps + 1) * config.batch_size
    perms = [rng.permutation(n_train) for _ in range(-(-need // n_train))]
    return np.concatenate(perms)[:need].reshape(config.steps + 1, config.batch_size)


def _act_forward(act: Activation, z: np.ndarray, out: np.ndarray, slope: float, zeros: np.ndarray) -> None:
    """out = phi(z) on arrays [z, 1] -> [h, 1] whose last column is the bias input: one pass over the
    whole contiguous buffer (a strided view costs ~2x here), then the column is set back to 1 where
    phi(1) != 1."""
    act.forward(z, out, slope, zeros)
    if not act.keeps_one:
        out[..., -1] = 1.0


# ---------------------------------------------------------------------------------------------
# K networks of one shape in flat buffers: params (K, P); layer j is the view Wa[j] (K, n_in + 1, n_out)
# whose last row is the bias, so z = [h, 1] @ Wa is one matmul and so is its gradient [h, 1]^T dz.
# The hidden layers' buffers [z, 1], [h, 1] and [dz, 0] all carry that extra column, so activations and
# their derivatives run over whole contiguous arrays (the matmuls write the strided views z and dz).
# ---------------------------------------------------------------------------------------------


class Stack:
    def __init__(self, configs: list[ExperimentConfig], data: DataSplit, diagnostics: bool) -> None:
        c = configs[0]
        self.configs, self.c, self.data, self.diag = configs, c, data, diagnostics
        self.K = len(configs)
        self.sizes = c.sizes
        self.L = c.depth
        self.dtype = np.dtype(c.dtype)
        self.threads = blas_threads(c)
        self.act, self.slope = c.activation, float(c.leaky_slope)
        self.phi = ACTIVATIONS[c.activation]
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
            with blas_limit(blas_threads(cfg)):  # orthogonal / LSUV QRs: threads that spin cost 3x here
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
            _act_forward(self.phi, self.Za[j], self.Ha[j], self.slope, self.zeros)
            h = self.Ha[j]
        np.matmul(h, self.Wa[self.L], out=self.Z[self.L])

    def loss_and_backward(self) -> tuple[np.ndarray, np.ndarray]:
        """Mini-batch loss per network (K,) and dLoss/dlogits; gradients into self.grads, dz into self.DZ.

        The loss is core.losses.softmax_cross_entropy fused into this step's buffers (no temporaries of
        the batch's size beyond e), stacked over K networks.
        """
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
            self.phi.backward(self.DZall[j - 1], self.Za[j - 1], self.Ha[j - 1], self.slope)
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
            _act_forward(self.phi, za, ha[j % 2], self.slope, zeros)
            h = ha[j % 2]
        return np.matmul(h, Wa[self.L])

    def evaluate(self, params: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """(train_loss, test_loss, train_acc, test_acc), each (K,), on the whole train and test splits."""
        with np.errstate(all="ignore"):  # also when run on the diagnostics worker
            return self._evaluate(params)

    def _evaluate(self, params: np.ndarray | None) -> tuple[np.ndarray, ...]:
        z = self.logits(self.Xa_eval, params).astype(np.float64)  # a float32 loss beyond 3e38 is finite here
        loss = nll(z, self.y_eval)
        correct = np.argmax(z, axis=2) == self.y_eval
        n = self.n_train
        return loss[:, :n].mean(1), loss[:, n:].mean(1), correct[:, :n].mean(1), correct[:, n:].mean(1)

    # ----------------------------------------------------------------------- the loop
    def run(self, progress: Callable[[float, str], None], evaluate: bool = True) -> list[RunRecord]:
        """Train every network of the stack; `evaluate=False` (benchmarks only) skips the full-data evals."""
        c, K, L = self.c, self.K, self.L
        steps = c.steps
        stat_steps = sorted(set(range(0, steps + 1, c.record_every)) | {steps})
        n_ck = c.n_checkpoints
        hist_steps = sorted({int(round(x)) for x in np.linspace(0, steps, n_ck)}) if self.diag else []
        stat_set, hist_set = set(stat_steps) if evaluate else set(), set(hist_steps)
        rec = [Recorder(self, i, stat_steps, hist_steps) for i in range(K)]
        alive = np.ones(K, dtype=bool)
        losses = np.zeros((steps, K))
        evals: list[tuple[int, np.ndarray, Future]] = []
        evals_done = 0
        every = max(1, steps // 50)
        t0, cpu0 = time.perf_counter(), time.process_time()
        threads = self.threads
        with blas_limit(threads), np.errstate(all="ignore"):
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
                    evals.append((s, np.flatnonzero(alive), submit(self.eval_inline, self.evaluate, params)))
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
        with blas_limit(threads), np.errstate(all="ignore"):
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

    def _final(self, rec: list[Recorder]) -> list[dict]:
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
            p = softmax(z)
            for i in range(self.K):
                out[i]["boundary"] = np.argmax(z[i], axis=1).reshape(G, G)
                out[i]["boundary_prob"] = p[i].max(axis=1).reshape(G, G).astype(np.float64)
                out[i]["boundary_extent"] = tuple(float(v) for v in (x0, x1, y0, y1))
        return out


def _word(x: float) -> str:
    return "NaN" if np.isnan(x) else "infinite"
