"""Mean-field theory: quadrature against closed forms, the edge of chaos, xi, and predictions vs a real net.

The network check draws width-1024 random networks with numpy inline (independent of core.mlp).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core import theory as T
from core.initializers import initialize, weight_std

ACTS = ("linear", "tanh", "sigmoid", "relu", "leaky_relu", "gelu")


def _brute(f, q: float, mean: float = 0.0) -> float:
    """E[f(z)], z ~ N(mean, q), by the trapezoid rule on a fine uniform grid (exponentially accurate for
    smooth integrands that decay; an independent reference for the module's Legendre panels)."""
    sd = math.sqrt(q)
    h = min(sd, 1.0) / 200.0
    z = np.arange(mean - 10 * sd, mean + 10 * sd + h, h)
    p = np.exp(-0.5 * (z - mean) ** 2 / q) / math.sqrt(2 * math.pi * q)
    return float(np.sum(f(z) * p) * h)


def _phi(name: str):
    return T.activation_functions(name, 0.01)


# ------------------------------------------------------------------------------------- quadrature
@pytest.mark.parametrize("q", [1e-8, 0.01, 1.0, 37.0, 1e4, 1e10])
def test_quadrature_matches_closed_forms_for_piecewise_linear(q):
    relu, drelu = _phi("relu")
    assert T.gaussian_expectation(lambda z: relu(z) ** 2, q) == pytest.approx(q / 2, rel=1e-13)
    assert T.gaussian_expectation(lambda z: drelu(z) ** 2, q) == pytest.approx(0.5, rel=1e-13)
    assert T.gaussian_expectation(relu, q) == pytest.approx(math.sqrt(q / (2 * math.pi)), rel=1e-13)
    assert T.gaussian_expectation(lambda z: z * z, q) == pytest.approx(q, rel=1e-13)
    leaky = T.activation_functions("leaky_relu", 0.3)[0]
    assert T.gaussian_expectation(lambda z: leaky(z) ** 2, q) == pytest.approx(1.09 * q / 2, rel=1e-13)


def test_gelu_second_moment_closed_form():
    # E[gelu(u)^2] = 1/3 + 1/(2 pi sqrt 3) for u ~ N(0, 1)
    gelu = _phi("gelu")[0]
    expected = 1 / 3 + 1 / (2 * math.pi * math.sqrt(3))
    assert T.gaussian_expectation(lambda z: gelu(z) ** 2, 1.0) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "gelu"])
@pytest.mark.parametrize("q", [1e-4, 0.3, 1.0, 25.0, 900.0, 1e4])
def test_quadrature_matches_a_brute_force_reference_at_every_scale(name, q):
    # Gauss-Hermite fails here for large q (phi(sqrt(q) u) is a near-step in u); the panels must not.
    phi, dphi = _phi(name)
    for f in (lambda z: phi(z) ** 2, lambda z: dphi(z) ** 2):
        assert T.gaussian_expectation(f, q) == pytest.approx(_brute(f, q), rel=1e-11, abs=0)
    assert T.gaussian_expectation(lambda z: phi(z) ** 2, q, mean=0.7) == pytest.approx(
        _brute(lambda z: phi(z) ** 2, q, mean=0.7), rel=1e-11, abs=0
    )


@pytest.mark.parametrize("c", [0.0, 0.3, 0.8, 0.99])
@pytest.mark.parametrize("q", [0.5, 4.0])
def test_pair_expectation_matches_arc_cosine_kernel(c, q):
    relu = _phi("relu")[0]
    # Cho & Saul (2009): E[relu(z_a) relu(z_b)] = q / (2 pi) (sqrt(1 - c^2) + (pi - arccos c) c)
    exact = q / (2 * math.pi) * (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c)
    # the kink at z_b = 0 cuts the inner panels at arbitrary places: ~1e-6, not 1e-13 (ReLU never needs
    # this 2-D integral in the module: its chaotic phase has q* = inf)
    assert T._pair_expectation(relu, relu, q, c) == pytest.approx(exact, rel=1e-5)
    assert T._pair_expectation(lambda z: z, lambda z: z, q, c) == pytest.approx(q * c, abs=1e-13 * q)
    tanh = np.tanh
    # independent check for a smooth phi: E[phi(z_a) phi(z_b)] by brute force over z_a of E[phi(c z_a + t)]
    perp = q * (1 - c * c)
    ref = _brute(lambda za: tanh(za) * np.array([_brute(lambda t: tanh(c * x + t), perp) for x in za]), q)
    assert T._pair_expectation(tanh, tanh, q, c) == pytest.approx(ref, rel=1e-9, abs=1e-13)


# ----------------------------------------------------------------------------------- fixed points
def test_fixed_points_closed_forms():
    assert T.fixed_point(1.5, 0.2, "relu") == pytest.approx(0.2 / (1 - 0.75), rel=1e-14)
    assert T.fixed_point(0.5, 0.2, "linear") == pytest.approx(0.4, rel=1e-14)
    assert T.fixed_point(2.0, 0.0, "relu") == 1.0  # every q is fixed: q0 comes back
    assert T.fixed_point(2.5, 0.0, "relu") == math.inf
    assert T.fixed_point(2.0, 0.1, "relu") == math.inf
    assert T.fixed_point(0.8, 0.0, "tanh") == 0.0
    for act, sw, sb in (("tanh", 3.0, 0.05), ("sigmoid", 4.0, 0.1), ("gelu", 1.5, 0.3), ("tanh", 100.0, 0.0)):
        q = T.fixed_point(sw, sb, act)
        phi = _phi(act)[0]
        assert sw * _brute(lambda z: phi(z) ** 2, q) + sb == pytest.approx(q, rel=1e-11)


def test_relu_chi1_is_one_at_sigma_w2_2():
    assert T.chi1(2.0, 0.0, "relu") == 1.0
    for sw, sb in ((1.0, 0.0), (1.5, 0.3), (3.0, 0.1)):
        assert T.chi1(sw, sb, "relu") == pytest.approx(sw / 2, rel=1e-14)
    assert T.critical_sigma_w2(0.4, "relu") == 2.0
    assert T.critical_sigma_w2(0.0, "leaky_relu", 0.5) == pytest.approx(2 / 1.25, rel=1e-14)


def test_tanh_is_critical_at_sigma_w2_1_without_bias():
    assert T.critical_sigma_w2(0.0, "tanh") == pytest.approx(1.0, abs=1e-9)
    assert T.chi1(1.0, 0.0, "tanh") == pytest.approx(1.0, abs=1e-12)  # q* = 0, chi1 = sigma_w2 tanh'(0)^2


def _chi1_hermite(sw: float, sb: float) -> float:
    """tanh's chi_1 by plain fixed-point iteration and Gauss-Hermite (accurate for q* <= 1)."""
    x, w = np.polynomial.hermite_e.hermegauss(160)
    w = w / math.sqrt(2 * math.pi)
    q = 1.0
    for _ in range(20000):
        q = sw * np.dot(w, np.tanh(math.sqrt(q) * x) ** 2) + sb
    return sw * np.dot(w, (1 - np.tanh(math.sqrt(q) * x) ** 2) ** 2)


@pytest.mark.parametrize("sb", [0.01, 0.05, 0.2])
def test_chi1_crosses_one_at_the_critical_sigma_w2(sb):
    crit = T.critical_sigma_w2(sb, "tanh")
    assert T.chi1(crit, sb, "tanh") == pytest.approx(1.0, abs=1e-11)
    assert _chi1_hermite(crit, sb) == pytest.approx(1.0, abs=1e-9)
    for f in (0.5, 0.9, 0.99):
        assert T.chi1(crit * f, sb, "tanh") < 1.0
    for f in (1.01, 1.1, 2.0):
        assert T.chi1(crit * f, sb, "tanh") > 1.0


def test_critical_line_rises_with_bias_variance():
    # the literature's picture: tanh's edge of chaos moves to larger sigma_w2 as sigma_b2 grows
    crits = [T.critical_sigma_w2(sb, "tanh") for sb in (0.0, 0.05, 0.2, 0.5)]
    assert all(a < b for a, b in zip(crits, crits[1:]))
    assert 1.7 < crits[1] < 1.8  # Schoenholz et al. (2017), Fig. 1: sigma_b2 = 0.05 -> sigma_w2 ~ 1.76


# ------------------------------------------------------------------------------------- depth scale
@pytest.mark.parametrize("act,sb", [("tanh", 0.05), ("tanh", 0.0), ("relu", 0.1)])
def test_xi_grows_without_bound_at_the_edge_of_chaos(act, sb):
    crit = T.critical_sigma_w2(sb, act)
    below = [T.depth_scale(crit * (1 - 10.0**-k), sb, act) for k in (1, 2, 3, 4)]
    assert all(a < b for a, b in zip(below, below[1:]))
    assert below[-1] > 1000.0
    if act == "tanh" and sb > 0:
        above = [T.depth_scale(crit * (1 + 10.0**-k), sb, act) for k in (1, 2, 3)]
        assert all(a < b for a, b in zip(above, above[1:]))
        assert above[-1] > 100.0
    assert T.depth_scale(crit, sb, act) > 1e6


def test_xi_ordered_phase_is_minus_one_over_log_chi1():
    for act, sw, sb in (("tanh", 1.2, 0.05), ("relu", 1.5, 0.1), ("sigmoid", 5.0, 0.1)):
        assert T.depth_scale(sw, sb, act) == pytest.approx(-1 / math.log(T.chi1(sw, sb, act)), rel=1e-12)


def test_xi_chaotic_phase_uses_the_correlation_fixed_point():
    # odd phi, no bias: c* = 0 and chi_c = sigma_w2 E[phi'(z)]^2 (the two inputs are independent)
    sw = 4.0
    q = T.fixed_point(sw, 0.0, "tanh")
    assert T.correlation_fixed_point(sw, 0.0, "tanh") == 0.0
    chi_c = sw * _brute(lambda z: 1 - np.tanh(z) ** 2, q) ** 2
    assert T.depth_scale(sw, 0.0, "tanh") == pytest.approx(-1 / math.log(chi_c), rel=1e-10)
    # with a bias, c* in (0, 1) is a fixed point of the correlation map and chi_c < 1 < chi_1
    c = T.correlation_fixed_point(3.0, 0.1, "tanh")
    assert 0.0 < c < 1.0
    assert T.correlation_map(c, 3.0, 0.1, "tanh") == pytest.approx(c, abs=1e-11)
    assert T.chi_c(3.0, 0.1, "tanh") < 1.0 < T.chi1(3.0, 0.1, "tanh")
    assert T.gradient_depth_scale(3.0, 0.1, "tanh") == pytest.approx(1 / math.log(T.chi1(3.0, 0.1, "tanh")))


# ------------------------------------------------------------------------- theory vs a real network
def _measure(sizes, scheme, activation, bias_std, seeds, batch=512):
    """Mean over seeds of the per-layer mean square pre-activation and back-propagated gradient."""
    phi, dphi = {
        "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
        "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    }[activation]
    pre, grad = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((batch, sizes[0]))
        ws = [initialize(scheme, a, b, rng=rng, activation=activation) for a, b in zip(sizes[:-1], sizes[1:])]
        bs = [bias_std * rng.standard_normal(b) for b in sizes[1:]]
        h, zs = X, []
        for j, (w, b) in enumerate(zip(ws, bs)):
            z = h @ w + b
            zs.append(z)
            h = phi(z) if j < len(ws) - 1 else z
        d = rng.standard_normal(zs[-1].shape)  # any iid output gradient: the ratios are what is predicted
        g = [np.mean(d * d)]
        for j in range(len(ws) - 2, -1, -1):
            d = (d @ ws[j + 1].T) * dphi(zs[j])
            g.append(np.mean(d * d))
        pre.append([np.mean(z * z) - np.mean(z) ** 2 for z in zs])
        g = np.array(g[::-1])
        grad.append(g / g[-1])
    return np.mean(pre, axis=0), np.mean(grad, axis=0)


@pytest.mark.parametrize("scheme,bias_std", [("xavier_normal", 0.0), ("lecun_normal", 0.3)])
def test_predicted_variances_match_a_width_1024_tanh_network(scheme, bias_std):
    sizes = [256] + [1024] * 11  # 10 hidden layers; a wide output layer so that it is measured as well
    pre, grad = _measure(sizes, scheme, "tanh", bias_std, seeds=(0, 1), batch=256)
    v = [weight_std(scheme, a, b, "tanh") ** 2 for a, b in zip(sizes[:-1], sizes[1:])]
    pred = T.predict_layers(sizes, v, bias_std**2, "tanh", input_second_moment=1.0)
    np.testing.assert_allclose(pre, pred["pre_var"], rtol=0.10)
    np.testing.assert_allclose(grad, pred["grad_var"], rtol=0.10)
    if bias_std == 0.0:
        # Xavier at tanh shrinks the signal layer after layer: the theory must show it, not a constant
        assert pred["pre_var"][9] < 0.6 * pred["pre_var"][0]


@pytest.mark.parametrize("bias_std", [0.0, 0.2])
def test_relu_recursion_matches_a_width_1024_network_layer_by_layer(bias_std):
    """For He-initialised ReLU the mean field is exact *on average over networks*, but one network's
    variance drifts like a random walk in log q (std ~ sqrt(5 L / n), Hanin & Rolnick 2018): ~20 % at
    L = 10, n = 1024, so an end-to-end 10 % test on one network would be false. Each single step of the
    recursion is tight, so check every layer from the measured previous one."""
    n, depth, rng = 1024, 10, np.random.default_rng(5)
    h = rng.standard_normal((256, 256))
    for j in range(depth):
        fan_in = h.shape[1]
        v = weight_std("he_normal", fan_in, n, "relu") ** 2
        z = h @ initialize(
            "he_normal", fan_in, n, rng=rng, activation="relu"
        ) + bias_std * rng.standard_normal(n)
        pred = T.predict_layers(
            [fan_in, n, n], [v, v], bias_std**2, "relu", input_second_moment=np.mean(h * h)
        )
        assert np.var(z) == pytest.approx(pred["pre_var"][0], rel=0.10), j
        h = np.maximum(z, 0.0)
        step = T.predict_layers([n, n, n], [1 / n, 1 / n], 0.0, "relu", input_second_moment=np.var(z))
        assert np.mean(h * h) == pytest.approx(step["act_second_moment"][0], rel=0.10), j
        assert np.mean(h) == pytest.approx(step["act_mean"][0], rel=0.10), j


def test_predict_layers_bookkeeping():
    sizes = [3, 5, 7, 2]
    out = T.predict_layers(sizes, [0.5, 0.2, 0.1], [0.0, 0.1, 0.2], "linear", input_second_moment=2.0)
    q1 = 3 * 0.5 * 2.0
    q2 = 5 * 0.2 * q1 + 0.1
    q3 = 7 * 0.1 * q2 + 0.2
    np.testing.assert_allclose(out["pre_var"], [q1, q2, q3], rtol=1e-13)
    np.testing.assert_allclose(out["act_second_moment"], [q1, q2, q3], rtol=1e-13)
    # grad_var_j = n_{j+1} v_{j+1} E[phi'^2] grad_var_{j+1} with the real fan-out
    np.testing.assert_allclose(out["grad_var"], [7 * 0.2 * 2 * 0.1, 2 * 0.1, 1.0], rtol=1e-13)
    relu = T.predict_layers([4, 6, 6, 3], [1.0, 2 / 6, 2 / 6], 0.0, "relu")
    np.testing.assert_allclose(relu["pre_var"], [4.0, 4.0, 4.0], rtol=1e-13)
    np.testing.assert_allclose(relu["act_mean"][:2], math.sqrt(4 / (2 * math.pi)), rtol=1e-13)
    np.testing.assert_allclose(relu["act_var"][:2], 2 - 4 / (2 * math.pi), rtol=1e-13)
    np.testing.assert_allclose(
        relu["grad_var"], [6 * (2 / 6) * 0.5 * 3 * (2 / 6) * 0.5, 3 * (2 / 6) * 0.5, 1.0]
    )


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="activation must be one of"):
        T.fixed_point(1.0, 0.0, "swish")
    with pytest.raises(ValueError, match="sigma_w2 must be a finite number >= 0"):
        T.chi1(-1.0, 0.0, "tanh")
    with pytest.raises(ValueError, match="sigma_b2 must be a finite number >= 0"):
        T.depth_scale(1.0, float("nan"), "tanh")
    with pytest.raises(ValueError, match="weight_vars must have 3 entries"):
        T.predict_layers([2, 3, 3, 2], [1.0, 1.0], 0.0, "tanh")
    with pytest.raises(ValueError, match="sizes must be a list of >= 2 positive integers"):
        T.predict_layers([2, 0, 2], [1.0, 1.0], 0.0, "tanh")
