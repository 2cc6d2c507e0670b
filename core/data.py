"""Seeded, standardized toy data sets: spiral, moons, circles, XOR, blobs, the bundled 8x8 digits, Gaussian.
`load` returns a `DataSplit`: stratified train/test split, standardized with the train split's statistics.
"""

# noise (2-D sets) is the std of Gaussian noise added to each coordinate of each clean point; every
# clean shape has radius about 1 (spiral arms of length 1, unit moons and circles, XOR on [-1, 1]^2,
# blob centres on the unit circle, so blobs are k points when noise is 0). digits ignores noise and
# n_classes (always 10 classes) and uses at most all 1797 images of scikit-learn's bundled copy.
# gaussian: unit-Gaussian inputs of `dim` coordinates (the CS231n lecture 6 experiment feeds
# randn(1000, 500)); the k classes are k equal-sized bands of the projection onto one random direction,
# so the task is learnable and exactly balanced. It ignores noise.

from __future__ import annotations

import math
import threading
from functools import lru_cache

import numpy as np

from core.records import DataSplit

DATASETS = ("spiral", "moons", "circles", "xor", "blobs", "digits", "gaussian")  # the one list of data set ids

N_DIGITS = 1797
MAX_CLASSES = 10  # spiral arms / blob centres / Gaussian bands
MAX_DIM = 1000
DIM = 500  # default input dimension of `gaussian` (ExperimentConfig.input_dim)


def dataset_shape(name: str, n_classes: int = 3, dim: int = DIM) -> tuple[int, int]:
    """(input dimension d, number of classes k); n_classes matters for spiral, blobs and gaussian, dim for
    gaussian."""
    _check_name(name)
    if name == "digits":
        return 64, 10
    if name == "gaussian":
        return _check_dim(dim), _check_classes(n_classes)
    if name in ("spiral", "blobs"):
        return 2, _check_classes(n_classes)
    return 2, 2


def load(
    name: str,
    n_samples: int = 600,
    noise: float = 0.1,
    n_classes: int = 3,
    seed: int = 0,
    test_fraction: float = 0.25,
    dim: int = DIM,
) -> DataSplit:
    """Generate (or load) a data set, split it stratified and standardize it. Deterministic in ``seed``."""
    _check_name(name)
    d, k = dataset_shape(name, n_classes, dim)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 4 * k:
        raise ValueError(
            f"n_samples must be an integer >= {4 * k} (4 per class) for {name}, got {n_samples!r}"
        )
    if (
        isinstance(noise, bool)
        or not isinstance(noise, (int, float))
        or not (math.isfinite(noise) and noise >= 0)
    ):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if not isinstance(test_fraction, (int, float)) or not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(int(seed))
    if name == "digits":
        X, y = _digits(int(n_samples), rng)
        names = _digits_raw()[2]
    elif name == "gaussian":
        X, y = _gaussian(int(n_samples), d, k, rng)
        names = tuple(f"x{i + 1}" for i in range(d))
    else:
        X, y = _GENERATORS[name](int(n_samples), float(noise), k, rng)
        names = ("x1", "x2")
    train, test = _stratified_split(y, float(test_fraction), rng)
    mean = X[train].mean(axis=0)
    std = X[train].std(axis=0)
    std[std < 1e-12] = 1.0  # constant features (digits' border pixels) stay 0 instead of dividing by 0
    Xs = (X - mean) / std
    return DataSplit(
        name=name,
        X_train=Xs[train],
        y_train=y[train].astype(np.int64),
        X_test=Xs[test],
        y_test=y[test].astype(np.int64),
        n_classes=k,
        feature_names=names,
    )


# --------------------------------------------------------------------------------------- validation
def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}")


def _check_dim(dim: int) -> int:
    ok = isinstance(dim, (int, np.integer)) and not isinstance(dim, bool)
    if not (ok and 1 <= dim <= MAX_DIM):
        raise ValueError(f"input_dim must be an integer in [1, {MAX_DIM}], got {dim!r}")
    return int(dim)


def _check_classes(n_classes: int) -> int:
    ok = isinstance(n_classes, (int, np.integer)) and not isinstance(n_classes, bool)
    if not (ok and 2 <= n_classes <= MAX_CLASSES):
        raise ValueError(f"n_classes must be an integer in [2, {MAX_CLASSES}], got {n_classes!r}")
    return int(n_classes)


# ---------------------------------------------------------------------------------------- generators
def _class_counts(n: int, k: int) -> np.ndarray:
    """n split into k classes as evenly as possible (sizes differ by at most 1)."""
    return np.array([n // k + (c < n % k) for c in range(k)])


def _labels(n: int, k: int) -> np.ndarray:
    return np.repeat(np.arange(k), _class_counts(n, k))


def _spiral(n: int, noise: float, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """k interleaved arms: radius r in [0, 1], angle 2 pi c / k + 4 r (about 2/3 of a turn per arm)."""
    y = _labels(n, k)
    r = np.concatenate([np.linspace(0.0, 1.0, m) for m in _class_counts(n, k)])
    t = 2.0 * np.pi * y / k + 4.0 * r
    X = np.column_stack([r * np.sin(t), r * np.cos(t)])
    return X + noise * rng.standard_normal(X.shape), y


def _moons(n: int, noise: float, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles of radius 1 (as sklearn.datasets.make_moons)."""
    y = _labels(n, 2)
    t = np.concatenate([np.linspace(0.0, np.pi, m) for m in _class_counts(n, 2)])
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = np.where((y == 0)[:, None], upper, lower)
    return X + noise * rng.standard_normal(X.shape), y


def _circles(n: int, noise: float, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles of radius 1 (class 0) and 0.5 (class 1) (as make_circles, factor 0.5)."""
    y = _labels(n, 2)
    t = np.concatenate([np.linspace(0.0, 2 * np.pi, m, endpoint=False) for m in _class_counts(n, 2)])
    radius = np.where(y == 0, 1.0, 0.5)
    X = radius[:, None] * np.column_stack([np.cos(t), np.sin(t)])
    return X + noise * rng.standard_normal(X.shape), y


def _xor(n: int, noise: float, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform on [-1, 1]^2, class 1 where x1 * x2 < 0; exactly balanced by quadrant mirroring."""
    y = _labels(n, 2)
    # Draw from the first quadrant, then mirror: class 0 into quadrants 1/3, class 1 into 2/4.
    P = rng.uniform(0.0, 1.0, (n, 2))
    flip = rng.integers(0, 2, n) * 2 - 1  # which of the two quadrants of the class
    X = np.column_stack([P[:, 0] * flip, P[:, 1] * flip * np.where(y == 0, 1, -1)])
    return X + noise * rng.standard_normal(X.shape), y


def _blobs(n: int, noise: float, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """k Gaussian blobs with std ``noise`` around centres evenly spaced on the unit circle."""
    y = _labels(n, k)
    a = 2.0 * np.pi * np.arange(k) / k
    X = np.column_stack([np.cos(a), np.sin(a)])[y]
    return X + noise * rng.standard_normal(X.shape), y


def _gaussian(n: int, d: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n unit-Gaussian points in d dimensions; class c = the c-th of k equal bands of x · u (u random)."""
    X = rng.standard_normal((n, d))
    u = rng.standard_normal(d)
    order = np.argsort(X @ u, kind="stable")
    y = np.empty(n, dtype=np.int64)
    y[order] = _labels(n, k)
    return X, y


_GENERATORS = {"spiral": _spiral, "moons": _moons, "circles": _circles, "xor": _xor, "blobs": _blobs}


_DIGITS_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """scikit-learn's bundled 8x8 digits (1797 images, pixel values 0..16): no download.

    Loaded once and cached. The import sits inside a lock: two threads importing scikit-learn at the same
    time can see a partially initialized module."""
    with _DIGITS_LOCK:
        from sklearn.datasets import load_digits

        d = load_digits()
    X = np.asarray(d.data, dtype=np.float64)
    X.setflags(write=False)  # cached: callers must not change it
    y = np.asarray(d.target, dtype=np.int64)
    y.setflags(write=False)
    return X, y, tuple(d.feature_names)


def _digits(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A stratified subsample of n of the 1797 digits (all of them when n >= 1797)."""
    X, y, _ = _digits_raw()
    if n >= N_DIGITS:
        return X.copy(), y.copy()
    counts = np.bincount(y, minlength=10)
    # Largest-remainder allocation keeps each class's share of the subsample as in the full set.
    share = counts * n / N_DIGITS
    take = np.floor(share).astype(int)
    take[np.argsort(-(share - take), kind="stable")[: n - take.sum()]] += 1
    idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[: take[c]] for c in range(10)])
    idx.sort()
    return X[idx], y[idx]


def _stratified_split(
    y: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """Shuffled index arrays (train, test); each class contributes round(n_c * test_fraction) to test,
    at least 1 and at most n_c - 1."""
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = min(max(round(len(idx) * test_fraction), 1), len(idx) - 1)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
