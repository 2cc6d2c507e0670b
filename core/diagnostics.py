"""Measures of a layer for the records: symmetry (distinct units, cosine, rank) and shared-edge histograms.

Pure functions on numpy arrays; `core.train` calls them at the recorded steps.
"""

from __future__ import annotations

import math

import numpy as np


def distinct_units(W_aug: np.ndarray, rel_tol: float | None = None) -> np.ndarray | int:
    """Number of distinct units of a layer: columns of `W_aug` (incoming weights with the bias as last row).

    `W_aug` is (fan_in + 1, units) or a stack (..., fan_in + 1, units) of layers (one count each).
    Two units are the same when their incoming vectors differ by at most `rel_tol` times the largest
    unit norm of the layer (Euclidean). Default tolerance: 1e-6 in float64, 3.5e-4 (sqrt(eps)) in
    float32: far above the rounding noise of the Gram-matrix distance (~fan_in * eps), far below any
    real difference. Counted greedily: a unit is new unless it equals an earlier one.
    """
    if rel_tol is None:
        rel_tol = max(1e-6, math.sqrt(np.finfo(W_aug.dtype).eps))
    U = np.asarray(W_aug, dtype=np.float64)
    sq = np.einsum("...ij,...ij->...j", U, U)  # squared norm of each unit
    gram = np.matmul(np.swapaxes(U, -1, -2), U)
    d2 = sq[..., :, None] + sq[..., None, :] - 2.0 * gram
    scale2 = sq.max(axis=-1, initial=0.0)[..., None, None]
    same = d2 <= (rel_tol * rel_tol) * scale2
    n = U.shape[-1]
    dup = (same & np.triu(np.ones((n, n), dtype=bool), 1)).any(axis=-2)
    out = n - dup.sum(axis=-1)
    return int(out) if np.ndim(out) == 0 else out


def mean_cosine(W: np.ndarray) -> np.ndarray | float:
    """Mean pairwise cosine similarity of a layer's incoming weight vectors (columns of W).

    `W` is (fan_in, units) or a stack (..., fan_in, units). Units whose incoming weights are all zero
    have no direction and are left out; NaN when fewer than two units have nonzero weights (e.g. an
    all-zero layer).
    """
    U = np.asarray(W, dtype=np.float64)
    norms = np.sqrt(np.einsum("...ij,...ij->...j", U, U))
    nonzero = norms > 0
    unit = U / np.where(nonzero, norms, 1.0)[..., None, :]  # zero columns stay zero
    m = nonzero.sum(axis=-1)
    s = unit.sum(axis=-1)
    # sum over ordered pairs i != j of cos_ij = |sum of unit vectors|^2 - (number of unit vectors)
    pair_sum = np.einsum("...i,...i->...", s, s) - m
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(m >= 2, pair_sum / (m * (m - 1.0)), np.nan)
    return float(out) if np.ndim(out) == 0 else out


def numerical_ranks(H: np.ndarray) -> np.ndarray:
    """Numerical rank of each matrix of a stack H (..., batch, units): the activation matrices.

    From the eigenvalues of the Gram matrix H^T H (or H H^T, the smaller) in float64, 2x cheaper
    than an SVD of H: singular values s = sqrt(eigenvalue) count when s > s_max * tol with
    tol = max(sqrt(m * eps64), m * eps(dtype)), m = max(batch, units): the Gram route resolves
    singular values down to ~sqrt(eps64) s_max (1.5e-8), and a float32 matrix carries no more
    than ~m * eps32 of relative information. Identical units give rank 1, all-zero activations 0.
    """
    m = max(H.shape[-2:])
    tol = max(math.sqrt(m * np.finfo(np.float64).eps), m * np.finfo(H.dtype).eps)
    X = np.asarray(H, dtype=np.float64)
    finite = np.isfinite(X).all(axis=(-2, -1))
    # The rank does not change with the scale: dividing by the largest entry keeps the Gram matrix of
    # huge activations from overflowing. A matrix with inf or NaN in it has no rank (NaN).
    with np.errstate(all="ignore"):  # tiny entries underflow to 0 harmlessly
        peak = np.where(finite, np.abs(X).max(axis=(-2, -1)), 1.0)
        X = np.where(finite[..., None, None], X / np.where(peak > 0, peak, 1.0)[..., None, None], 0.0)
        Xt = np.swapaxes(X, -1, -2)
        gram = np.matmul(Xt, X) if X.shape[-1] <= X.shape[-2] else np.matmul(X, Xt)
        lam = np.linalg.eigvalsh(gram)
    s = np.sqrt(np.maximum(lam, 0.0))
    s_max = s.max(axis=-1, keepdims=True)
    ranks = ((s > s_max * tol) & (s > 0)).sum(axis=-1).astype(np.float64)
    return np.where(finite, ranks, np.nan)


def nice_ceil(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is >= x (x > 0)."""
    e = math.floor(math.log10(x))
    for m in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if m * 10.0**e >= x * (1 - 1e-12):
            return m * 10.0**e
    return 10.0 ** (e + 1)


class Binner:
    """Counts values into fixed bins, with the edges shared by every layer and checkpoint.

    transform "linear": bins over the value; "log10abs": bins over log10|value|, exact zeros
    counted apart. Values outside the edges go to the first / last bin and are counted as clipped.
    Uses bincount over computed bin indices (3-6x cheaper than np.histogram per layer).
    """

    def __init__(self, lo: float, hi: float, n_bins: int, transform: str = "linear") -> None:
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"histogram edges need finite lo < hi, got {lo!r}, {hi!r}")
        self.lo, self.hi, self.n_bins, self.transform = float(lo), float(hi), int(n_bins), transform
        self.edges = np.linspace(lo, hi, n_bins + 1)

    def count(self, values: np.ndarray) -> tuple[np.ndarray, int, int]:
        """(counts (n_bins,), zeros, clipped) of the values (any shape)."""
        v = np.asarray(values, dtype=np.float64).ravel()
        zeros = int(np.count_nonzero(v == 0))
        if self.transform == "log10abs":
            v = np.log10(np.abs(v[v != 0]))
        finite = np.isfinite(v)
        if not finite.all():
            v = v[finite]
        t = (v - self.lo) * (self.n_bins / (self.hi - self.lo))
        clipped = int(np.count_nonzero((v < self.lo) | (v > self.hi)))
        idx = np.clip(t, 0, self.n_bins - 1).astype(np.intp)
        return np.bincount(idx, minlength=self.n_bins), zeros, clipped
