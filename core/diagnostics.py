"""Measures of a layer for the records: symmetry (distinct units, cosine, rank) and shared-edge histograms.

Pure functions on numpy arrays; `core.train` calls them at the recorded steps.
"""

from __future__ import annotations

import math

import numpy as np


def distinct_units(W_aug: np.ndarray, rel_tol: float | None = None) -> int:
    """Number of distinct units of a layer: columns of `W_aug` (incoming weights with the bias as last row).

    Two units are the same when their incoming vectors differ by at most `rel_tol` times the largest
    unit norm of the layer (Euclidean). Default tolerance: 1e-6 in float64, 3.5e-4 (sqrt(eps)) in
    float32: far above the rounding noise of the Gram-matrix distance (~n * eps), far below any
    real difference. Counted greedily: a unit is new unless it equals an earlier one.
    """
    if rel_tol is None:
        rel_tol = max(1e-6, math.sqrt(np.finfo(W_aug.dtype).eps))
    U = np.asarray(W_aug, dtype=np.float64).T  # (units, fan_in + 1)
    sq = np.einsum("ij,ij->i", U, U)
    scale2 = float(sq.max()) if sq.size else 0.0
    # |a - b|^2 from the Gram matrix; its rounding error (~1e-13 scale2) sits far below tol^2
    d2 = sq[:, None] + sq[None, :] - 2.0 * (U @ U.T)
    same = d2 <= (rel_tol * rel_tol) * scale2
    dup = np.triu(same, 1).any(axis=0)
    return int(U.shape[0] - dup.sum())


def mean_cosine(W: np.ndarray) -> float:
    """Mean pairwise cosine similarity of a layer's incoming weight vectors (columns of W).

    Units whose incoming weights are all zero have no direction and are left out; NaN when fewer
    than two units have nonzero weights (e.g. an all-zero layer).
    """
    U = np.asarray(W, dtype=np.float64).T
    norms = np.sqrt(np.einsum("ij,ij->i", U, U))
    U = U[norms > 0] / norms[norms > 0, None]
    n = U.shape[0]
    if n < 2:
        return float("nan")
    s = U.sum(axis=0)
    # sum over pairs i != j of cos_ij = |sum u|^2 - sum |u|^2
    return float((s @ s - np.einsum("ij,ij->", U, U)) / (n * (n - 1)))


def numerical_ranks(H: np.ndarray) -> np.ndarray:
    """Numerical rank of each matrix in a stack H (..., batch, units), as numpy.linalg.matrix_rank does.

    Singular values above max(singular value) * max(batch, units) * eps(dtype) count.
    """
    s = np.linalg.svd(H, compute_uv=False)
    tol = s.max(axis=-1, keepdims=True) * max(H.shape[-2:]) * np.finfo(H.dtype).eps
    return ((s > tol) & (s > 0)).sum(axis=-1)


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
