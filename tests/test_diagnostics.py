"""core.diagnostics: the fast paths (Cholesky certificate for ranks, projection certificate for distinct
units) give exactly what the definitions give, on random, low-rank, dead-unit and duplicated matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.diagnostics import (
    Binner,
    distinct_units,
    layer_moments,
    numerical_ranks,
    percentiles,
    segment_moments,
)


def rank_by_definition(H: np.ndarray) -> float:
    """Singular values of H (SVD in float64) above s_max * tol, tol as documented in numerical_ranks."""
    if not np.isfinite(H).all():
        return math.nan
    m = max(H.shape)
    tol = max(math.sqrt(m * np.finfo(np.float64).eps), m * np.finfo(H.dtype).eps)
    s = np.linalg.svd(H.astype(np.float64), compute_uv=False)
    return float(((s > s.max(initial=0.0) * tol) & (s > 0)).sum())


def distinct_by_definition(W: np.ndarray) -> int:
    """Greedy count: a unit is new unless it is within rel_tol * (largest unit norm) of an earlier one."""
    rel_tol = max(1e-6, math.sqrt(np.finfo(W.dtype).eps))
    U = W.astype(np.float64).T
    scale = np.sqrt((U * U).sum(axis=1)).max()
    count = 0
    for j in range(len(U)):
        if not any(np.linalg.norm(U[j] - U[i]) <= rel_tol * scale for i in range(j)):
            count += 1
    return count


def activation_cases(dtype) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    B, n = 48, 24
    full = np.tanh(rng.standard_normal((B, n)))
    low = rng.standard_normal((B, 5)) @ rng.standard_normal((5, n))  # rank 5
    dead = np.maximum(rng.standard_normal((B, n)), 0)
    dead[:, [1, 4, 9]] = 0.0  # three dead units: rank n - 3
    dead_low = dead.copy()
    dead_low[:, 10] = dead_low[:, 11]  # and one duplicate: n - 4
    same = np.repeat(rng.standard_normal((B, 1)), n, axis=1)  # identical units: rank 1
    near = full.copy()
    near[:, 0] = near[:, 1] + 1e-12  # a singular value far below the tolerance
    wide = np.tanh(rng.standard_normal((10, n)))  # fewer samples than units
    tiny, huge = (1e-30, 1e30) if dtype == np.float32 else (1e-200, 1e150)  # the scale does not matter
    cases = (full, low, dead, dead_low, same, near, wide, np.zeros((B, n)), full * tiny, full * huge)
    return [a.astype(dtype) for a in cases]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numerical_ranks_match_the_singular_values(dtype):
    cases = activation_cases(dtype)
    got = [float(numerical_ranks(H)[()]) for H in cases]
    want = [rank_by_definition(H / np.abs(H).max() if np.abs(H).max() > 0 else H) for H in cases]
    assert got == want
    assert got[:7] == [24, 5, 21, 20, 1, 23, 10]
    # a stack mixing certified and uncertified matrices gives the same, matrix by matrix
    same_shape = np.stack([c for c in cases if c.shape == cases[0].shape])
    assert list(numerical_ranks(same_shape)) == [g for g, c in zip(got, cases) if c.shape == cases[0].shape]


def test_numerical_ranks_without_the_batched_cholesky_give_the_same(monkeypatch):
    """The fallback for a numpy without its linalg gufunc module: one public Cholesky per matrix."""
    import core.diagnostics as diagnostics

    cases = activation_cases(np.float64)
    stack = np.stack([c for c in cases if c.shape == cases[0].shape])
    want = list(numerical_ranks(stack))
    monkeypatch.setattr(diagnostics, "_umath_linalg", None)
    assert list(numerical_ranks(stack)) == want


def test_numerical_ranks_of_non_finite_matrices_are_nan():
    H = np.random.default_rng(1).standard_normal((3, 20, 8))
    H[1, 2, 3] = np.nan
    r = numerical_ranks(H)
    assert r[0] == 8 and np.isnan(r[1]) and r[2] == 8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_distinct_units_match_the_definition(dtype):
    rng = np.random.default_rng(3)
    fan_in, n = 17, 12
    random = rng.standard_normal((fan_in + 1, n))
    const = np.full((fan_in + 1, n), 0.3)
    pairs = random.copy()
    pairs[:, 5] = pairs[:, 2]
    pairs[:, 7] = pairs[:, 2] * (1 + 1e-9)  # within the tolerance of unit 2
    close = random.copy()
    close[:, 3] = close[:, 4] + 1e-3 * np.abs(close).max()  # near, but a real difference
    zeros = np.zeros((fan_in + 1, n))
    cases = [c.astype(dtype) for c in (random, const, pairs, close, zeros)]
    got = [distinct_units(W) for W in cases]
    assert got == [distinct_by_definition(W) for W in cases] == [12, 1, 10, 12, 1]
    assert list(distinct_units(np.stack(cases))) == got


def test_distinct_units_of_a_wide_layer_with_copies():
    """256 units: too many for the one-direction shortcut in float32, so close pairs are checked one by one."""
    rng = np.random.default_rng(5)
    W = rng.standard_normal((257, 256)).astype(np.float32)
    W[:, 100] = W[:, 3]
    W[:, 200] = W[:, 3]
    W[:, 17] = W[:, 250] * np.float32(1 + 1e-5)
    assert distinct_units(W) == distinct_by_definition(W) == 253
    assert distinct_units(W.astype(np.float64)) == 254  # 1e-5 apart is a real difference in float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_moments_match_the_two_pass_statistics(dtype):
    """One pass where the mean is small against the spread; two passes where it is not (no cancellation)."""
    rng = np.random.default_rng(11)
    noise = rng.standard_normal((128, 65))
    layers = [
        noise,  # mean ~ 0
        np.maximum(noise, 0),  # ReLU: mean ~ 0.4 std
        0.5 + 1e-4 * noise,  # a collapsed sigmoid layer: mean 5000 x the spread
        np.full((128, 65), 0.3),  # constant: std exactly 0
        np.zeros((128, 65)),
        1e-30 * noise,  # squares below the smallest float32: computed in float64
    ]
    big = np.stack(layers).astype(dtype)
    X = big[:, :, :-1]  # a strided view, as the activations [h, 1] are
    mean, std, sumsq = layer_moments(X)
    X64 = X.astype(np.float64)
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(mean, X64.mean(axis=(1, 2)), rtol=rtol, atol=1e-300)
    varied = [0, 1, 2, 5]
    np.testing.assert_allclose(std[varied], X64.std(axis=(1, 2))[varied], rtol=rtol * 10)
    np.testing.assert_allclose(sumsq, (X64 * X64).sum(axis=(1, 2)), rtol=rtol, atol=1e-300)
    assert std[3] == 0.0 and std[4] == 0.0  # exactly (numpy's std gives 5e-17 for the constant)
    assert all(
        np.array_equal(a, b) for a, b in zip(layer_moments(np.ascontiguousarray(X)), (mean, std, sumsq))
    )
    X = X.copy()
    X[1, 3, 3] = np.nan
    assert np.isnan(layer_moments(X)[1][1]) and not np.isnan(layer_moments(X)[1][[0, 2]]).any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_segment_moments_match_the_two_pass_statistics(dtype):
    """The weights of each layer in a row of parameters: segments of different lengths, gaps between them
    (the bias rows), the last one up to the end of the row; layer_moments' rules."""
    rng = np.random.default_rng(12)
    lengths = [4096, 640, 2048, 1024, 333, 777]
    segments = [
        rng.standard_normal(lengths[0]),
        np.maximum(rng.standard_normal(lengths[1]), 0),
        0.5 + 1e-4 * rng.standard_normal(lengths[2]),  # mean 5000 x the spread
        np.full(lengths[3], 0.3),  # constant: std exactly 0
        np.zeros(lengths[4]),
        1e-30 * rng.standard_normal(lengths[5]),  # squares below the smallest float32
    ]
    parts, starts, stops, at = [], [], [], 0
    for seg in segments:
        gap = rng.standard_normal(7)  # a bias row: not counted
        parts += [seg, gap]
        starts.append(at)
        stops.append(at + len(seg))
        at += len(seg) + len(gap)
    x = np.concatenate(parts[:-1]).astype(dtype)  # the last segment ends the row
    mean, std, sumsq = segment_moments(x, starts, stops)
    ref = [x[a:b].astype(np.float64) for a, b in zip(starts, stops)]
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(mean, [r.mean() for r in ref], rtol=rtol, atol=1e-300)
    varied = [0, 1, 2, 5]
    np.testing.assert_allclose(std[varied], [ref[i].std() for i in varied], rtol=rtol * 10)
    np.testing.assert_allclose(sumsq, [r @ r for r in ref], rtol=rtol, atol=1e-300)
    assert std[3] == 0.0 and std[4] == 0.0
    x[starts[1] + 5] = np.nan
    mean, std, sumsq = segment_moments(x, starts, stops)
    assert np.isnan(std[1]) and np.isnan(sumsq[1]) and not np.isnan(std[[0, 2, 3, 4, 5]]).any()


def histogram_by_definition(b: Binner, v: np.ndarray) -> tuple[list[int], int, int]:
    """Bins of [lo, hi] (the last one closed), values outside counted apart then put in the end bins."""
    v = v.astype(np.float64).ravel()
    zeros = int((v == 0).sum())
    if b.transform == "log10abs":
        v = np.log10(np.abs(v[v != 0]))
    v = v[np.isfinite(v)]
    clipped = int(((v < b.lo) | (v > b.hi)).sum())
    counts, _ = np.histogram(np.clip(v, b.lo, b.hi), bins=b.edges)
    return counts.tolist(), zeros, clipped


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transform", ["linear", "log10abs"])
def test_binner_counts_match_np_histogram(dtype, transform):
    rng = np.random.default_rng(2)
    b = Binner(-2.0, 3.0, 20) if transform == "linear" else Binner(-6.0, 1.0, 28, "log10abs")
    inside = rng.uniform(-1.9, 2.9, 500) if transform == "linear" else 10 ** rng.uniform(-5.9, 0.9, 500)
    cases = {
        "inside": inside,
        "the edges": np.array([-2.0, 3.0, 1e-6, 10.0, 0.5]),
        "outside": np.concatenate([inside, [-50.0, 50.0, 1e-9, 1e9, 0.0, 0.0]]),
        "non-finite": np.concatenate([inside, [np.nan, np.inf, -np.inf, 0.0]]),
        "zeros": np.zeros(7),
    }
    for name, v in cases.items():
        counts, zeros, clipped = b.count(v.astype(dtype))
        assert (counts.tolist(), zeros, clipped) == histogram_by_definition(b, v.astype(dtype)), name


def test_percentiles_match_numpy():
    rng = np.random.default_rng(4)
    for v in (
        rng.standard_normal(8192),
        rng.standard_normal(7).astype(np.float32),
        np.arange(10.0),
        np.ones(1),
    ):
        for qs in ([99.9], [0.1, 99.9], [0.0, 50.0, 100.0]):
            np.testing.assert_allclose(percentiles(v, qs), np.percentile(v, qs), rtol=1e-6)
