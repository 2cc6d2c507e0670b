"""Data sets: shapes, standardization, stratified split, determinism, the offline digits, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import DATASETS, ExperimentConfig
from core.data import dataset_shape, load

TWO_D = ("spiral", "moons", "circles", "xor", "blobs")


@pytest.mark.parametrize("name", DATASETS)
def test_shapes_types_and_split_sizes(name):
    d, k = dataset_shape(name, 4)
    s = load(name, n_samples=400, n_classes=4, seed=3)
    assert s.name == name and s.n_classes == k
    assert s.X_train.shape[1] == s.X_test.shape[1] == d
    assert s.X_train.dtype == np.float64 and s.y_train.dtype == np.int64
    assert len(s.X_train) + len(s.X_test) == 400
    assert len(s.X_test) == pytest.approx(100, abs=k)  # 25 %, rounded per class
    assert set(np.unique(s.y_train)) == set(np.unique(s.y_test)) == set(range(k))
    assert len(s.feature_names) == d


def test_dataset_shape():
    assert dataset_shape("spiral", 5) == (2, 5)
    assert dataset_shape("blobs", 2) == (2, 2)
    assert dataset_shape("moons", 5) == dataset_shape("circles", 3) == dataset_shape("xor", 6) == (2, 2)
    assert dataset_shape("digits", 3) == (64, 10)
    assert ExperimentConfig(dataset="digits", depth=2, width=16).sizes == [64, 16, 16, 10]


@pytest.mark.parametrize("name", DATASETS)
def test_standardized_with_the_train_statistics(name):
    s = load(name, n_samples=600, seed=1)
    mean, std = s.X_train.mean(axis=0), s.X_train.std(axis=0)
    np.testing.assert_allclose(mean, 0.0, atol=1e-12)
    live = std > 0  # digits has pixels that are 0 in every image: they stay 0 instead of NaN
    np.testing.assert_allclose(std[live], 1.0, rtol=1e-12)
    assert np.all(np.isfinite(s.X_test))
    if name == "digits":
        assert (~live).sum() >= 1 and np.all(s.X_train[:, ~live] == 0)
    # the test split is transformed with the train statistics, not its own: its mean is not exactly 0
    assert np.abs(s.X_test.mean(axis=0)).max() > 1e-6


@pytest.mark.parametrize("name", DATASETS)
def test_deterministic_in_the_seed(name):
    a, b, c = load(name, seed=7), load(name, seed=7), load(name, seed=8)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize(
    "name,k", [("spiral", 3), ("spiral", 5), ("blobs", 4), ("moons", 2), ("circles", 2), ("xor", 2)]
)
def test_classes_are_balanced_and_split_stratified(name, k):
    s = load(name, n_samples=601, n_classes=k, seed=2)
    counts = np.bincount(np.concatenate([s.y_train, s.y_test]), minlength=k)
    assert counts.max() - counts.min() <= 1
    test_counts = np.bincount(s.y_test, minlength=k)
    np.testing.assert_array_equal(test_counts, np.round(counts * 0.25).astype(int))


@pytest.mark.parametrize("name", TWO_D)
def test_noise_is_gaussian_with_the_given_std(name):
    # before standardization: the same seed gives the same clean shape, plus noise * N(0, 1) per coordinate
    from core.data import _GENERATORS

    n, noise = 20000, 0.07
    X0, y0 = _GENERATORS[name](n, 0.0, 3, np.random.default_rng(4))
    X1, y1 = _GENERATORS[name](n, noise, 3, np.random.default_rng(4))
    np.testing.assert_array_equal(y0, y1)
    e = (X1 - X0).ravel()
    assert e.std() == pytest.approx(noise, rel=5 / np.sqrt(2 * e.size))
    assert abs(e.mean()) < 5 * noise / np.sqrt(e.size)
    if name == "circles":
        np.testing.assert_allclose(np.hypot(*X0.T), np.where(y0 == 0, 1.0, 0.5), rtol=1e-12)
    if name == "moons":
        # class 0: the upper unit half circle; class 1: the lower one centred at (1, 0.5)
        np.testing.assert_allclose(np.hypot(X0[y0 == 0, 0], X0[y0 == 0, 1]), 1.0, rtol=1e-12)
        np.testing.assert_allclose(np.hypot(X0[y0 == 1, 0] - 1, X0[y0 == 1, 1] - 0.5), 1.0, rtol=1e-12)
    if name == "xor":
        assert np.all((X0[:, 0] * X0[:, 1] < 0) == (y0 == 1)) and np.abs(X0).max() <= 1.0
    if name == "spiral":
        assert np.hypot(*X0.T).max() == pytest.approx(1.0)


def test_blobs_without_noise_are_their_centres():
    b = load("blobs", n_samples=600, noise=0.0, n_classes=5, seed=0)
    assert len(np.unique(np.round(b.X_train, 9), axis=0)) == 5


def test_digits_offline_subsample_is_stratified_and_capped():
    full = load("digits", n_samples=2000, seed=0)  # more than the 1797 images: all of them
    assert len(full.y_train) + len(full.y_test) == 1797
    s = load("digits", n_samples=500, seed=0)
    counts = np.bincount(np.concatenate([s.y_train, s.y_test]), minlength=10)
    full_counts = np.bincount(np.concatenate([full.y_train, full.y_test]), minlength=10)
    assert counts.sum() == 500
    assert np.all(np.abs(counts - full_counts * 500 / 1797) < 1)
    assert s.X_train.shape[1] == 64 and s.n_classes == 10


def test_bad_arguments_raise_naming_them():
    with pytest.raises(ValueError, match="dataset must be one of spiral, moons, circles, xor, blobs, digits"):
        load("mnist")
    with pytest.raises(ValueError, match="n_samples must be an integer >= 12"):
        load("spiral", n_samples=10)
    with pytest.raises(ValueError, match="n_samples must be an integer"):
        load("moons", n_samples=300.5)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        load("moons", noise=-0.1)
    with pytest.raises(ValueError, match="n_classes must be an integer in"):
        load("spiral", n_classes=1)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        load("blobs", seed=-1)
    with pytest.raises(ValueError, match="test_fraction must be a number in"):
        load("blobs", test_fraction=1.0)
    with pytest.raises(ValueError, match="n_classes must be an integer in"):
        dataset_shape("blobs", 11)
