"""What one network of a training stack records, and the histogram edges: the RunRecord of core/records.py.

What the records hold beyond core/records.py's comments:
- Statistics at step s are measured on mini-batch s (the one update s + 1 uses); the final step's on the
  next batch of the stream. update_ratio is NaN at the last step (no update is taken there); from
  all-zero weights it is 0 if nothing moved and inf if something did. cosine is NaN for a layer
  with fewer than two nonzero incoming weight vectors (e.g. all-zero weights).
- boundary[i, j] is the class predicted at x = linspace(x0, x1, G)[j], y = linspace(y0, y1, G)[i].
- Histogram edges: one set per quantity and run, from the network at step 0 (see make_binners).
- On divergence, every array stops before diverged_at; final_weights are the last finite ones.
"""

from __future__ import annotations

import hashlib
import math
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np

from core.diagnostics import (
    Binner,
    distinct_units,
    layer_moments,
    mean_cosine,
    nice_ceil,
    numerical_ranks,
    percentiles,
    segment_moments,
)
from core.process import submit
from core.records import HISTOGRAMS, LAYER_STATS, SYMMETRY_STATS, Histogram, RunRecord

if TYPE_CHECKING:  # only a type: the engine creates the recorders
    from core.engine import Stack

MAX_SNAPSHOT_FLOATS = 200_000  # weight snapshots are kept when C * (number of weights) is at most this
MAX_PENDING = 4  # snapshots waiting per network before the training loop waits for the worker ...
MAX_PENDING_BYTES = 64e6  # ... and fewer when they are big (memory of a small cloud instance)


class Recorder:
    def __init__(self, st: Stack, i: int, stat_steps: list[int], hist_steps: list[int]) -> None:
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
        self.futures.append(submit(st.stats_inline, self._compute, s, snap, stat, hist))
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
            self.binners = make_binners(self.st.act, hs, zs, Ws, Gs)
        vals = {"act": hs, "act_log": hs, "pre": zs, "weight": Ws, "grad": Gs}
        counts = {q: [self.binners[q].count(v) for v in vals[q]] for q in HISTOGRAMS}
        snapshot = tuple(W.astype(np.float32) for W in Ws) if self.keep_snapshots else None
        return (s, counts, snapshot)

    def record(self, losses: np.ndarray, seconds: float, final: dict) -> RunRecord:
        st, L = self.st, self.st.L
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
            extra={"stacked_with": st.K, "blas_threads": st.threads},
        )


def make_binners(act: str, hs, zs, Ws, Gs) -> dict[str, Binner]:
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
