"""Every initializer against its formula: moments, bounds, orthogonality, gains, biases, LSUV, errors.

Tolerances are 5 standard errors of the estimate at the sample size used (n = 10^6 elements).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss

from core import initializers as I
from core.initializers import (
    BIAS_SCHEMES,
    GAINS,
    SCHEMES,
    gain,
    initialize,
    initialize_bias,
    lsuv,
    weight_std,
)

N_IN, N_OUT = 1000, 1000  # 10^6 samples per matrix
N = N_IN * N_OUT
Z = 5.0  # standard errors allowed

IDS = (
    "zeros constant normal uniform standard_uniform lecun_normal lecun_uniform xavier_normal "
    "xavier_uniform he_normal he_uniform orthogonal truncated_normal lsuv sparse"
).split()
NORMALS = ("normal", "lecun_normal", "xavier_normal", "he_normal")
UNIFORMS = ("uniform", "standard_uniform", "lecun_uniform", "xavier_uniform", "he_uniform")


def _std_tol(kurtosis: float) -> float:
    """Relative standard error of a sample std: sqrt((kurtosis - 1) / (4 n))."""
    return Z * math.sqrt((kurtosis - 1.0) / (4.0 * N))


def _expected_std(scheme: str, n_in: int, n_out: int, activation: str = "tanh", **p) -> float:
    """The published formulas, written out independently of the module."""
    g = p.get("gain", 1.0)
    slope = p.get("slope", 0.01) if activation == "leaky_relu" else 0.0
    fan = n_in if p.get("mode", "fan_in") == "fan_in" else n_out
    s = {
        "normal": g * p.get("std", 0.01),
        "truncated_normal": g * p.get("std", 0.01),
        "uniform": g * p.get("bound", 0.05) / math.sqrt(3),
        "standard_uniform": g / math.sqrt(3 * n_in),
        "lecun_normal": g / math.sqrt(n_in),
        "lecun_uniform": g / math.sqrt(n_in),
        "xavier_normal": g * math.sqrt(2 / (n_in + n_out)),
        "xavier_uniform": g * math.sqrt(2 / (n_in + n_out)),
        "he_normal": g * math.sqrt(2 / ((1 + slope**2) * fan)),
        "he_uniform": g * math.sqrt(2 / ((1 + slope**2) * fan)),
        "orthogonal": g / math.sqrt(max(n_in, n_out)),
        "lsuv": g / math.sqrt(max(n_in, n_out)),
        # a fraction ceil(sparsity n_out) / n_out of the elements is 0, the rest N(0, (g sigma)^2)
        "sparse": g * p.get("std", 0.01) * math.sqrt(1 - math.ceil(p.get("sparsity", 0.1) * n_out) / n_out),
    }
    return s[scheme] * p.get("scale", 1.0)


# ----------------------------------------------------------------------------------------- catalog
def test_catalog_ids_fields_and_order():
    assert list(SCHEMES) == IDS
    families = {"constant", "fixed scale", "fan-in scaled", "fan-avg scaled", "orthogonal", "data-dependent"}
    for sid, s in SCHEMES.items():
        assert s.family in families, sid
        assert s.label and s.formula and s.purpose
        assert s.symmetric == (sid in ("zeros", "constant"))
        assert set(s.params) <= set(I.PARAMS), sid
    assert SCHEMES["he_normal"].label == "He (Kaiming) normal"
    assert SCHEMES["lsuv"].family == "data-dependent"
    assert list(BIAS_SCHEMES) == ["zeros", "constant", "normal", "standard_uniform"]


@pytest.mark.parametrize("scheme", IDS)
def test_shape_dtype_and_weight_std_formula(scheme):
    w = initialize(scheme, 30, 20, rng=0)
    assert w.shape == (30, 20) and w.dtype == np.float64
    for n_in, n_out, act in ((300, 200, "tanh"), (64, 256, "relu"), (10, 10, "leaky_relu")):
        if scheme in ("zeros", "constant"):
            assert weight_std(scheme, n_in, n_out, act) == 0.0
        else:
            assert weight_std(scheme, n_in, n_out, act) == pytest.approx(
                _expected_std(scheme, n_in, n_out, act), rel=1e-14
            )


# ---------------------------------------------------------------------------- moments and bounds
@pytest.mark.parametrize("scheme", NORMALS)
def test_normal_schemes_mean_std_and_gaussian_tails(scheme):
    w = initialize(scheme, N_IN, N_OUT, rng=1, activation="relu")
    s = _expected_std(scheme, N_IN, N_OUT, "relu")
    assert abs(w.mean()) < Z * s / math.sqrt(N)
    assert w.std() == pytest.approx(s, rel=_std_tol(3.0))
    # a Gaussian puts 4.55 % of its mass beyond 2 std (a uniform puts none there)
    p = math.erfc(2 / math.sqrt(2))
    assert np.mean(np.abs(w) > 2 * s) == pytest.approx(p, abs=Z * math.sqrt(p * (1 - p) / N))


@pytest.mark.parametrize("scheme", UNIFORMS)
def test_uniform_schemes_bounds_and_std(scheme):
    w = initialize(scheme, N_IN, N_OUT, rng=2, activation="relu")
    s = _expected_std(scheme, N_IN, N_OUT, "relu")
    bound = s * math.sqrt(3)
    assert np.abs(w).max() <= bound
    # P(max |w| < b (1 - eps)) = (1 - eps)^n: with eps = 3e-5 that is e^-30
    assert np.abs(w).max() >= bound * (1 - 3e-5)
    assert abs(w.mean()) < Z * s / math.sqrt(N)
    assert w.std() == pytest.approx(s, rel=_std_tol(1.8))


def test_fixed_scale_parameters_are_used():
    assert initialize("normal", N_IN, N_OUT, rng=3, std=0.2).std() == pytest.approx(0.2, rel=_std_tol(3))
    w = initialize("uniform", N_IN, N_OUT, rng=3, bound=0.3)
    assert np.abs(w).max() <= 0.3 and np.abs(w).max() > 0.3 * (1 - 3e-5)
    assert np.all(initialize("constant", 4, 5, rng=3, value=-0.7) == -0.7)
    assert np.all(initialize("zeros", 4, 5, rng=3) == 0.0)
    assert np.all(initialize("constant", 4, 5) == 0.5)  # the default c


def test_standard_uniform_is_pytorch_linear_default_bound():
    w = initialize("standard_uniform", 400, N // 400, rng=4)
    assert np.abs(w).max() <= 1 / math.sqrt(400)
    assert np.abs(w).max() > (1 - 3e-5) / math.sqrt(400)


def test_truncated_normal_std_and_cut():
    std = 0.05
    w = initialize("truncated_normal", N_IN, N_OUT, rng=5, std=std)
    # the normal it was cut from has std std / 0.8796 and is cut at 2 of those
    cut = 2 * std / 0.87962566103423978
    assert np.abs(w).max() <= cut
    assert np.abs(w).max() > cut * 0.999
    # kurtosis of a normal truncated at +-2 sigma is about 2.36
    assert w.std() == pytest.approx(std, rel=_std_tol(2.4))
    assert abs(w.mean()) < Z * std / math.sqrt(N)
    # without the variance correction the std would be 12 % smaller than asked
    assert w.std() > 0.95 * std


def test_truncated_normal_constant_is_the_std_of_the_truncated_standard_normal():
    # Var of N(0,1) cut to [-2, 2] = 1 - 2 * 2 phi(2) / (2 Phi(2) - 1)
    phi2 = math.exp(-2) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert I.TRUNC_STD == pytest.approx(math.sqrt(1 - 4 * phi2 / mass), rel=1e-15)


# -------------------------------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("shape", [(64, 64), (200, 50), (50, 200), (1, 7), (7, 1)])
def test_orthogonal_is_orthogonal_times_gain(shape):
    n_in, n_out = shape
    g = 1.7
    w = initialize("orthogonal", n_in, n_out, rng=6, gain=g)
    if n_in >= n_out:
        np.testing.assert_allclose(w.T @ w, g * g * np.eye(n_out), atol=1e-12)
    else:
        np.testing.assert_allclose(w @ w.T, g * g * np.eye(n_in), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False), g, rtol=1e-12)
    # the mean square element is exactly g^2 / max(fan_in, fan_out): weight_std's claim
    assert np.mean(w**2) == pytest.approx(weight_std("orthogonal", n_in, n_out, gain=g) ** 2, rel=1e-12)


def test_orthogonal_sign_fix_makes_it_haar():
    # Haar-distributed Q has E[Q_00] = 0 and E[Q_00^2] = 1/3 (n = 3). Raw Householder QR without the
    # sign fix makes Q_00 = -|a_00| / |a_0| always negative.
    rng = np.random.default_rng(7)
    q00 = np.array([initialize("orthogonal", 3, 3, rng=rng)[0, 0] for _ in range(4000)])
    assert abs(q00.mean()) < Z * math.sqrt(1 / 3 / 4000)
    assert np.mean(q00**2) == pytest.approx(1 / 3, abs=Z * math.sqrt(4 / 45 / 4000))


def test_lsuv_initialize_returns_the_orthogonal_start():
    np.testing.assert_array_equal(initialize("lsuv", 40, 30, rng=8), initialize("orthogonal", 40, 30, rng=8))


# ---------------------------------------------------------------------------------- gain and scale
def test_gain_table():
    assert GAINS["linear"] == 1 and GAINS["sigmoid"] == 1 and GAINS["selu"] == 0.75
    assert GAINS["tanh"] == pytest.approx(5 / 3, rel=1e-15)
    assert GAINS["relu"] == pytest.approx(math.sqrt(2), rel=1e-15)
    assert gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04), rel=1e-15)
    assert gain("leaky_relu") == pytest.approx(math.sqrt(2 / 1.0001), rel=1e-15)
    # gelu: 1 / sqrt(E[gelu(u)^2]), u ~ N(0, 1), by independent Gauss-Hermite quadrature (smooth integrand)
    x, wq = hermegauss(120)
    phi = 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x]))
    m2 = np.dot(wq, (x * phi) ** 2) / math.sqrt(2 * math.pi)
    assert gain("gelu") == pytest.approx(1 / math.sqrt(m2), rel=1e-13)


def test_gain_defaults_to_one_and_auto_uses_the_activation_gain():
    a = initialize("xavier_uniform", 100, 80, rng=9, activation="tanh")
    b = initialize("xavier_uniform", 100, 80, rng=9, activation="tanh", gain="auto")
    c = initialize("xavier_uniform", 100, 80, rng=9, activation="tanh", gain="1")
    np.testing.assert_allclose(b, a * 5 / 3, rtol=1e-13, atol=1e-16)
    np.testing.assert_array_equal(a, c)
    r = initialize("lecun_normal", 100, 80, rng=9, activation="relu", gain="auto")
    np.testing.assert_allclose(
        r, initialize("lecun_normal", 100, 80, rng=9) * math.sqrt(2), rtol=1e-13, atol=1e-16
    )
    # He already holds the rectifier's factor: "auto" must not count it twice
    he = initialize("he_normal", 100, 80, rng=9, activation="relu", gain="auto")
    np.testing.assert_array_equal(he, initialize("he_normal", 100, 80, rng=9, activation="relu"))
    assert weight_std("he_normal", 100, 80, "relu", gain="auto") == pytest.approx(math.sqrt(2 / 100))


@pytest.mark.parametrize("scheme", [s for s in IDS if s != "zeros"])
def test_scale_multiplies_the_std_or_bound(scheme):
    a = initialize(scheme, 50, 40, rng=10, activation="relu")
    b = initialize(scheme, 50, 40, rng=10, activation="relu", scale=3.0)
    np.testing.assert_allclose(b, 3.0 * a, rtol=1e-13, atol=1e-16)
    assert weight_std(scheme, 50, 40, "relu", scale=3.0) == pytest.approx(
        3.0 * weight_std(scheme, 50, 40, "relu"), rel=1e-14
    )


def test_he_fan_out_mode_and_leaky_slope():
    w = initialize("he_normal", 250, 4000, rng=11, activation="relu", mode="fan_out")
    assert w.std() == pytest.approx(math.sqrt(2 / 4000), rel=_std_tol(3))
    w = initialize("he_uniform", 4000, 250, rng=11, activation="leaky_relu", slope=0.5)
    assert w.std() == pytest.approx(math.sqrt(2 / (1.25 * 4000)), rel=_std_tol(1.8))
    # the slope only counts for leaky_relu
    assert weight_std("he_normal", 100, 10, "relu", slope=0.5) == pytest.approx(math.sqrt(2 / 100))
    assert weight_std("he_normal", 100, 10, "leaky_relu", slope=1.0) == pytest.approx(math.sqrt(1 / 100))


# ------------------------------------------------------------------------------------------ biases
def test_bias_schemes():
    assert np.all(initialize_bias("zeros", 10, 7, rng=0) == 0) and initialize_bias("zeros", 10, 7).shape == (
        7,
    )
    assert np.all(initialize_bias("constant", 10, 7, rng=0, value=0.3) == 0.3)
    b = initialize_bias("normal", 10, N, rng=12, value=0.2)
    assert b.shape == (N,) and b.std() == pytest.approx(0.2, rel=_std_tol(3))
    assert abs(b.mean()) < Z * 0.2 / math.sqrt(N)
    b = initialize_bias("standard_uniform", 25, N, rng=12)
    assert np.abs(b).max() <= 0.2 and np.abs(b).max() > 0.2 * (1 - 3e-5)
    assert b.std() == pytest.approx(0.2 / math.sqrt(3), rel=_std_tol(1.8))
    assert I.bias_std("standard_uniform", 25) == pytest.approx(0.2 / math.sqrt(3))


# ------------------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("scheme", [s for s in IDS if s not in ("zeros", "constant")])
def test_same_seed_same_weights_other_seed_other_weights(scheme):
    a = initialize(scheme, 20, 30, rng=np.random.default_rng(42))
    b = initialize(scheme, 20, 30, rng=np.random.default_rng(42))
    c = initialize(scheme, 20, 30, rng=np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_array_equal(a, initialize(scheme, 20, 30, rng=42))  # an int seed means the same


# -------------------------------------------------------------------------------------------- LSUV
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "gelu"])
def test_lsuv_gives_unit_output_variance_per_layer(activation):
    rng = np.random.default_rng(13)
    sizes = [10, 64, 64, 64, 3]
    ws = [initialize("lsuv", a, b, rng=rng, scale=0.1) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(b) for b in sizes[1:]]
    X = rng.standard_normal((256, 10))
    before = [w.copy() for w in ws]
    out = lsuv(ws, bs, X, activation, tol=0.01, max_iter=20)
    for w, w0 in zip(ws, before):
        np.testing.assert_array_equal(w, w0)  # inputs untouched
    from core.theory import activation_functions

    phi = activation_functions(activation)[0]
    h = X
    for j, (w, w0) in enumerate(zip(out, before)):
        z = h @ w
        assert abs(z.var() - 1) < 0.01, (j, z.var())
        ratio = w / w0  # a pure rescaling of the orthogonal start
        np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-12)
        h = phi(z)


# ------------------------------------------------------------------------------------------- errors
def test_errors_name_the_argument():
    with pytest.raises(
        ValueError, match=r"scheme must be one of zeros, constant, .*lsuv, sparse; got 'kaiming'"
    ):
        initialize("kaiming", 3, 3)
    for bad in (0, -2, 2.5, True, "4"):
        with pytest.raises(ValueError, match="fan_in must be a positive integer"):
            initialize("normal", bad, 3)
        with pytest.raises(ValueError, match="fan_out must be a positive integer"):
            weight_std("normal", 3, bad)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) sd, sigma; allowed: gain, scale"):
        initialize("normal", 3, 3, sigma=0.1, sd=1)
    with pytest.raises(ValueError, match="mode must be one of fan_in, fan_out"):
        initialize("he_normal", 3, 3, mode="avg")
    with pytest.raises(ValueError, match='gain must be a number >= 0 or "auto"'):
        initialize("xavier_normal", 3, 3, gain="big")
    with pytest.raises(ValueError, match="gain must be >= 0"):
        initialize("xavier_normal", 3, 3, gain=-1.0)
    with pytest.raises(ValueError, match="std must be finite"):
        initialize("normal", 3, 3, std=float("nan"))
    with pytest.raises(ValueError, match="scale must be >= 0"):
        initialize("normal", 3, 3, scale=-2)
    with pytest.raises(ValueError, match="activation must be one of"):
        initialize("normal", 3, 3, activation="swish")
    with pytest.raises(
        ValueError, match="bias scheme must be one of zeros, constant, normal, standard_uniform"
    ):
        initialize_bias("uniform", 3, 3)
    with pytest.raises(ValueError, match="rng must be"):
        initialize("normal", 3, 3, rng="seed")
    # every scheme accepts every known parameter (one config feeds all schemes) and ignores the rest
    np.testing.assert_array_equal(initialize("zeros", 2, 2, std=1, bound=1, value=1, mode="fan_out"), 0)


# ------------------------------------------------------------------------------------------ sparse
def test_sparse_zeroes_each_inputs_fraction_like_torch_sparse():
    """torch.nn.init.sparse_ on W^T (PyTorch's (fan_out, fan_in) layout) zeroes ceil(sparsity fan_out) of each
    column; ours zeroes as many of each row of W (fan_in, fan_out), the rest N(0, sigma^2)."""
    torch = pytest.importorskip("torch")
    n_in, n_out, sparsity, std = 400, 30, 0.25, 0.2
    ref = torch.empty(n_out, n_in, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.sparse_(ref, sparsity, std=std)
    ref_zeros = (ref.numpy().T == 0).sum(axis=1)
    w = initialize("sparse", n_in, n_out, rng=0, sparsity=sparsity, std=std)
    assert ((w == 0).sum(axis=1) == ref_zeros).all() and ref_zeros[0] == 8  # ceil(0.25 * 30)
    nonzero = w[w != 0]
    assert nonzero.std() == pytest.approx(std, rel=Z * math.sqrt(2 / (4 * nonzero.size)))
    # every position is zeroed equally often (positions drawn uniformly without replacement)
    assert np.abs((w == 0).mean(axis=0) - 8 / 30).max() < Z * math.sqrt((8 / 30) * (22 / 30) / n_in)
    assert w.std() == pytest.approx(weight_std("sparse", n_in, n_out, sparsity=sparsity, std=std), rel=0.05)


def test_sparse_edges_and_bad_sparsity():
    assert (initialize("sparse", 5, 7, rng=0, sparsity=1.0) == 0).all()
    assert (initialize("sparse", 5, 7, rng=0, sparsity=0.0) != 0).all()
    with pytest.raises(ValueError, match="sparsity"):
        initialize("sparse", 5, 7, rng=0, sparsity=1.5)
