"""Tests of core.mlp: exact gradients (finite differences), the loss, the error function, bad arguments.

Every number asserted here would be wrong if the forward or backward rule it checks were wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.mlp import ACTIVATIONS, MLP, erf, norm_cdf


def _numeric_grads(net: MLP, X, y, h=1e-6):
    out = []
    for params in (net.weights, net.biases):
        grads = []
        for P in params:
            G = np.zeros_like(P)
            for idx in np.ndindex(P.shape):
                old = P[idx]
                P[idx] = old + h
                lp = net.loss_and_grads(X, y)[0]
                P[idx] = old - h
                lm = net.loss_and_grads(X, y)[0]
                P[idx] = old
                G[idx] = (lp - lm) / (2 * h)
            grads.append(G)
        out.append(grads)
    return out


def _rel_err(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    a = np.concatenate([x.ravel() for x in a])
    b = np.concatenate([x.ravel() for x in b])
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("use_bias", [True, False])
def test_gradients_match_finite_differences(activation, depth, use_bias):
    rng = np.random.default_rng(depth)
    sizes = [3] + [5] * depth + [4]
    net = MLP(
        sizes,
        activation=activation,
        weight_init="xavier_normal",
        bias_init="normal",
        bias_value=0.3,
        seed=depth,
        use_bias=use_bias,
        gain=1.5,
    )
    X = rng.standard_normal((7, 3))
    y = rng.integers(0, 4, 7)
    loss, dW, db = net.loss_and_grads(X, y)
    nW, nb = _numeric_grads(net, X, y)
    assert _rel_err(dW, nW) < 1e-6
    if use_bias:
        assert len(db) == depth + 1
        assert _rel_err(db, nb) < 1e-6
    else:
        assert db == [] and net.biases == []
    # the gradient is not trivially zero
    assert np.linalg.norm(np.concatenate([g.ravel() for g in dW])) > 1e-3


def test_activation_derivatives_match_finite_differences():
    z = np.linspace(-6, 6, 1201) + 0.0005  # avoid the kink of relu at exactly 0
    for name, act in ACTIVATIONS.items():
        phi, dphi = act.phi, act.dphi
        h = 1e-6
        num = (phi(z + h, slope=0.1) - phi(z - h, slope=0.1)) / (2 * h)
        np.testing.assert_allclose(dphi(z, slope=0.1), num, rtol=1e-7, atol=1e-8, err_msg=name)


def test_engine_forms_of_each_activation_match_the_readable_ones():
    """The engine's in-place forward and backward compute the reference phi and g * phi'(z)."""
    z = np.linspace(-30, 30, 2401) + 0.0005
    g = np.cos(z)
    for name, act in ACTIVATIONS.items():
        out = np.empty_like(z)
        act.forward(z, out, 0.1, np.zeros_like(z))
        np.testing.assert_allclose(out, act.phi(z, slope=0.1), rtol=1e-14, atol=1e-300, err_msg=name)
        gg = g.copy()
        act.backward(gg, z, out, 0.1)
        np.testing.assert_allclose(gg, g * act.dphi(z, slope=0.1), rtol=1e-9, atol=1e-15, err_msg=name)
        assert act.keeps_one == (act.phi(np.array([1.0]), slope=0.1)[0] == 1.0), name


def test_loss_equals_direct_softmax_cross_entropy():
    rng = np.random.default_rng(0)
    net = MLP([4, 6, 3], activation="tanh", weight_init="xavier_normal", bias_init="normal", bias_value=0.1)
    X = rng.standard_normal((10, 4))
    y = rng.integers(0, 3, 10)
    z = np.tanh(X @ net.weights[0] + net.biases[0]) @ net.weights[1] + net.biases[1]
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    direct = -np.mean(np.log(p[np.arange(10), y]))
    assert net.loss_and_grads(X, y)[0] == pytest.approx(direct, rel=1e-13)
    logits = net.activations(X)[-1]
    np.testing.assert_allclose(logits, z, rtol=1e-13)


def test_loss_is_stable_for_huge_logits():
    net = MLP([2, 3], activation="linear", weight_init="zeros", seed=0)
    net.weights[0][:] = [[1000.0, -1000.0, 0.0], [0.0, 0.0, 0.0]]
    loss, dW, _ = net.loss_and_grads(np.array([[1.0, 0.0]]), np.array([1]))
    # log-sum-exp: -log softmax = 1000 - (-1000) = 2000 exactly, no overflow
    assert loss == pytest.approx(2000.0)
    assert all(np.isfinite(g).all() for g in dW)


def test_erf_and_normal_cdf_are_exact_to_double_precision():
    x = np.linspace(-7, 7, 14001)
    ref = np.array([math.erf(v) for v in x])
    assert np.abs(erf(x) - ref).max() < 5e-15
    ref_cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    # relative accuracy in the lower tail too (where 1 + erf would lose every digit)
    assert (np.abs(norm_cdf(x) - ref_cdf) / ref_cdf).max() < 2e-14
    assert erf(np.float32(0.5)).dtype == np.float32


def test_activations_lists_hidden_outputs_then_logits():
    net = MLP([2, 8, 8, 3], activation="relu", weight_init="he_normal", seed=3)
    X = np.random.default_rng(0).standard_normal((5, 2))
    hs = net.activations(X)
    assert [h.shape for h in hs] == [(5, 8), (5, 8), (5, 3)]
    assert (hs[0] >= 0).all() and (hs[1] >= 0).all() and (hs[2] < 0).any()
    np.testing.assert_array_equal(hs[0], np.maximum(X @ net.weights[0] + net.biases[0], 0))


def test_float32_network_matches_float64():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((16, 3))
    y = rng.integers(0, 2, 16)
    n64 = MLP([3, 10, 10, 2], activation="gelu", weight_init="he_uniform", seed=5, dtype="float64")
    n32 = MLP([3, 10, 10, 2], activation="gelu", weight_init="he_uniform", seed=5, dtype="float32")
    l64, g64, _ = n64.loss_and_grads(X, y)
    l32, g32, _ = n32.loss_and_grads(X, y)
    assert all(w.dtype == np.float32 for w in n32.weights + g32 + n32.activations(X))
    assert l32 == pytest.approx(l64, rel=1e-5)
    for a, b in zip(g32, g64):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_same_seed_same_weights_and_scheme_specific_streams():
    a = MLP([2, 8, 3], weight_init="xavier_uniform", seed=7)
    b = MLP([2, 8, 3], weight_init="xavier_uniform", seed=7)
    c = MLP([2, 8, 3], weight_init="xavier_normal", seed=7)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.allclose(a.weights[0] / a.weights[0].std(), c.weights[0] / c.weights[0].std())


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"sizes": [2, 0, 3]}, "sizes"),
        ({"sizes": [2]}, "sizes"),
        ({"sizes": "abc"}, "sizes"),
        ({"sizes": [2, 4, 3], "activation": "swish"}, "activation"),
        ({"sizes": [2, 4, 3], "weight_init": "glorot"}, "weight_init"),
        ({"sizes": [2, 4, 3], "bias_init": "ones"}, "bias_init"),
        ({"sizes": [2, 4, 3], "dtype": "float16"}, "dtype"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MLP(**kwargs)


def test_bad_data_names_the_argument():
    net = MLP([2, 4, 3])
    with pytest.raises(ValueError, match="X"):
        net.loss_and_grads(np.zeros((5, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="y"):
        net.loss_and_grads(np.zeros((5, 2)), np.array([0, 1, 2, 3, 0]))
    with pytest.raises(ValueError, match="y"):
        net.loss_and_grads(np.zeros((5, 2)), np.zeros(4, dtype=int))
