"""core.modern: gradients against PyTorch autograd and finite differences, BatchNorm / LayerNorm against torch.nn,
the variance recursions against the measured per-block std, and the trainer against core.train."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from core.config import ALPHAS, BLOCKS, BRANCH_LAYERS, NORMS, ExperimentConfig
from core.mlp import MLP
from core.modern import (
    BN_MOMENTUM,
    EPS,
    Arch,
    ModernNet,
    arch_of,
    batchnorm_eval,
    norm_backward,
    norm_forward,
    run_modern,
    update_running,
    variance_recursion,
)

ARCHS = [Arch("plain", n) for n in NORMS] + [
    Arch("residual", n, a, b) for n, a, b in itertools.product(NORMS, ALPHAS, BRANCH_LAYERS)
]


def _net(arch: Arch, activation: str = "tanh", dtype: str = "float64", seed: int = 0) -> ModernNet:
    net = ModernNet(
        3, 6, 3, 4, arch, activation=activation, weight_init="xavier_normal", bias_init="normal",
        bias_value=0.1, seed=seed, dtype=dtype, gain="auto",
    )  # fmt: skip
    for name, p in net.params.items():  # leave the start: gamma, beta and a learned alpha away from 1, 0, 0
        if name[0] in "ga" or name.startswith("be"):
            p += np.random.default_rng(len(name)).normal(0, 0.3, p.shape).astype(p.dtype)
    return net


def _batch(n: int = 10, d: int = 3, k: int = 4, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, k, n)


def _torch_loss(net: ModernNet, X: np.ndarray, y: np.ndarray, torch):
    """The same network written with torch.nn.functional, on leaf tensors of net's parameters."""
    F = torch.nn.functional
    P = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    act = {"tanh": torch.tanh, "relu": torch.relu, "gelu": F.gelu, "sigmoid": torch.sigmoid}[net.activation]
    arch, L = net.arch, net.depth
    alpha = {"one": 1.0, "inv_sqrt_l": 1 / math.sqrt(L), "inv_sqrt_2l": 1 / math.sqrt(2 * L)}

    def norm(z, j):
        if arch.norm == "batch":
            return F.batch_norm(z, None, None, P[f"g{j}"], P[f"be{j}"], training=True, eps=EPS)
        if arch.norm == "layer":
            return F.layer_norm(z, (z.shape[1],), P[f"g{j}"], P[f"be{j}"], eps=EPS)
        return z

    h = torch.tensor(X)
    if arch.block == "residual":
        h = h @ P["W0"] + P["b0"]
    for j in range(L):
        i = net.first_dense(j)
        if arch.block == "plain":
            h = act(norm(h @ P[f"W{i}"] + P[f"b{i}"], j))
            continue
        f = act(norm(h, j)) @ P[f"W{i}"] + P[f"b{i}"]
        if arch.branch_layers == 2:
            f = act(f) @ P[f"W{i + 1}"] + P[f"b{i + 1}"]
        h = h + (P[f"a{j}"] if arch.alpha == "learned" else alpha[arch.alpha]) * f
    o = net.n_dense - 1
    loss = F.cross_entropy(h @ P[f"W{o}"] + P[f"b{o}"], torch.tensor(y))
    loss.backward()
    return loss.item(), {k: t.grad.numpy() for k, t in P.items()}


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu"])
@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: f"{a.block}-{a.norm}-{a.alpha}-{a.branch_layers}")
def test_gradients_equal_torch_autograd(arch: Arch, activation: str) -> None:
    torch = pytest.importorskip("torch")
    net = _net(arch, activation)
    X, y = _batch()
    loss, G, _ = net.loss_and_grads(X, y)
    t_loss, t_G = _torch_loss(net, X, y, torch)
    assert loss == pytest.approx(t_loss, rel=1e-12)
    assert G.keys() == t_G.keys()
    # relative 1e-10 against the largest gradient: a bias in front of BatchNorm has gradient exactly 0 in theory
    # (the batch mean absorbs it), so both sides hold rounding noise of ~1e-17 there
    scale = max(np.abs(g).max() for g in t_G.values())
    for k in G:
        np.testing.assert_allclose(G[k], t_G[k], rtol=1e-10, atol=1e-10 * scale, err_msg=k)


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: f"{a.block}-{a.norm}-{a.alpha}-{a.branch_layers}")
def test_gradients_equal_finite_differences(arch: Arch) -> None:
    net = _net(arch)
    X, y = _batch()
    _, G, _ = net.loss_and_grads(X, y)
    rng = np.random.default_rng(2)
    h = 1e-6
    for k, p in net.params.items():
        for _ in range(2):
            idx = tuple(int(rng.integers(0, s)) for s in p.shape)
            old = p[idx]
            p[idx] = old + h
            up = net.loss_and_grads(X, y)[0]
            p[idx] = old - h
            down = net.loss_and_grads(X, y)[0]
            p[idx] = old
            assert G[k][idx] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8), (k, idx)


@pytest.mark.parametrize("arch", [Arch("plain", "batch"), Arch("residual", "layer", "learned", 2)])
def test_float32_follows_float64(arch: Arch) -> None:
    X, y = _batch()
    l64, G64, _ = _net(arch).loss_and_grads(X, y)
    l32, G32, _ = _net(arch, dtype="float32").loss_and_grads(X, y)
    assert l32 == pytest.approx(l64, rel=1e-5)
    scale = max(np.abs(g).max() for g in G64.values())
    for k in G64:
        assert G32[k].dtype == np.float32
        np.testing.assert_allclose(G32[k], G64[k], rtol=1e-3, atol=1e-5 * scale, err_msg=k)


def test_batchnorm_equals_torch_batchnorm1d_in_training_and_evaluation() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    bn = torch.nn.BatchNorm1d(5, dtype=torch.float64)
    assert bn.momentum == BN_MOMENTUM and bn.eps == EPS
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    running = {"mean": np.zeros(5), "var": np.ones(5)}
    for step in range(4):
        z = rng.normal(2.0, 3.0, size=(7, 5))
        zt = torch.tensor(z, requires_grad=True)
        bn.train()
        out_t = bn(zt)
        dout = rng.normal(size=out_t.shape)
        out_t.backward(torch.tensor(dout))
        out, cache = norm_forward(z, gamma, beta, axis=0)
        update_running(running, cache[4], cache[5], len(z))
        np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(running["mean"], bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(running["var"], bn.running_var.numpy(), rtol=1e-12)
        dz, dg, dbe = norm_backward(dout, cache)
        np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dg, bn.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(dbe, bn.bias.grad.numpy(), rtol=1e-10)
        bn.weight.grad = bn.bias.grad = None
    bn.eval()
    z = rng.normal(size=(3, 5))
    ref = bn(torch.tensor(z)).detach().numpy()
    np.testing.assert_allclose(
        batchnorm_eval(z, gamma, beta, running["mean"], running["var"]), ref, rtol=1e-12
    )


def test_network_batchnorm_running_statistics_equal_torch() -> None:
    """The network's BatchNorm (after a plain layer's linear map) in train steps, then in evaluation."""
    torch = pytest.importorskip("torch")
    net = _net(Arch("plain", "batch"))
    bn = torch.nn.BatchNorm1d(6, dtype=torch.float64)
    for seed in range(3):
        X, _ = _batch(seed=10 + seed)
        _, layers = net.forward(X, "train")
        bn.train()
        bn(torch.tensor(X @ net.params["W0"] + net.params["b0"]))
    np.testing.assert_allclose(net.running[0]["mean"], bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(net.running[0]["var"], bn.running_var.numpy(), rtol=1e-12)
    _, layers = net.forward(X, "batch")  # "batch" uses the batch's statistics and leaves the running ones
    np.testing.assert_allclose(net.running[0]["var"], bn.running_var.numpy(), rtol=1e-12)
    _, layers = net.forward(X, "eval")
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(net.params["g0"]))
        bn.bias.copy_(torch.tensor(net.params["be0"]))
    bn.eval()
    ref = bn(torch.tensor(X @ net.params["W0"] + net.params["b0"])).detach().numpy()
    np.testing.assert_allclose(layers[0]["u"], ref, rtol=1e-12, atol=1e-14)


def test_layernorm_equals_torch_layernorm() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    ln = torch.nn.LayerNorm(6, dtype=torch.float64)
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(gamma))
        ln.bias.copy_(torch.tensor(beta))
    z = rng.normal(1.0, 2.0, size=(4, 6))
    zt = torch.tensor(z, requires_grad=True)
    out_t = ln(zt)
    dout = rng.normal(size=(4, 6))
    out_t.backward(torch.tensor(dout))
    out, cache = norm_forward(z, gamma, beta, axis=1)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    dz, dg, dbe = norm_backward(dout, cache)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dg, ln.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dbe, ln.bias.grad.numpy(), rtol=1e-10)


def test_layernorm_after_the_first_layer_forgets_the_input_scale() -> None:
    """figures.modern.layernorm_input_note: with zero biases, x and 3x give the same layer-1 output."""
    net = ModernNet(2, 16, 2, 3, Arch("plain", "layer"), weight_init="normal", std=1.0)
    X = np.random.default_rng(6).normal(size=(5, 2))
    _, a = net.forward(X)
    _, b = net.forward(3 * X)
    np.testing.assert_allclose(a[0]["u"], b[0]["u"], rtol=1e-4, atol=1e-5)
    assert not np.allclose(a[0]["z"], b[0]["z"])


def test_plain_network_without_norm_is_core_mlp() -> None:
    """Same weights from the same generator, same loss and gradients: the lessons' runs are comparable."""
    X, y = _batch()
    net = ModernNet(3, 6, 3, 4, Arch(), activation="relu", weight_init="he_normal", seed=5)
    mlp = MLP([3, 6, 6, 6, 4], activation="relu", weight_init="he_normal", seed=5)
    loss, G, _ = net.loss_and_grads(X, y)
    m_loss, dW, db = mlp.loss_and_grads(X, y)
    assert loss == m_loss
    for i in range(4):
        np.testing.assert_array_equal(net.params[f"W{i}"], mlp.weights[i])
        np.testing.assert_allclose(G[f"W{i}"], dW[i], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(G[f"b{i}"], db[i], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.1), ("momentum", 0.05), ("adam", 0.01)])
def test_trainer_follows_core_train_on_the_plain_network(optimizer: str, lr: float) -> None:
    """Same data, batches, seed and optimizer rules as core.train: the loss curves agree step for step."""
    from core.train import run_many

    c = ExperimentConfig(depth=3, width=16, steps=40, optimizer=optimizer, lr=lr)
    mine, ref = run_modern([c])[0], run_many([c])[0]
    np.testing.assert_allclose(mine.loss, ref.loss, rtol=1e-12)
    np.testing.assert_allclose(mine.test_acc, ref.test_acc)
    np.testing.assert_allclose(mine.layer_stats["stream_std"], ref.layer_stats["act_std"][:, :3], rtol=1e-10)
    np.testing.assert_array_equal(mine.layer_stats["distinct"], ref.symmetry["distinct"])


# --------------------------------------------------------------------------- theory


def test_variance_recursion_closed_forms() -> None:
    L, q0 = 12, 0.7
    res = lambda **kw: variance_recursion(Arch("residual", **kw), "relu", L, q0, 2.0)  # noqa: E731
    ls = np.arange(1, L + 1)
    np.testing.assert_allclose(res(), q0 * 2.0**ls, rtol=1e-12)  # doubles per block
    np.testing.assert_allclose(res(branch_layers=2), q0 * 2.0**ls, rtol=1e-12)
    np.testing.assert_allclose(res(norm="batch"), q0 + ls, rtol=1e-4)  # grows linearly (EPS aside)
    np.testing.assert_allclose(res(alpha="inv_sqrt_l"), q0 * (1 + 1 / L) ** ls, rtol=1e-12)
    np.testing.assert_allclose(res(alpha="inv_sqrt_2l"), q0 * (1 + 1 / (2 * L)) ** ls, rtol=1e-12)
    np.testing.assert_allclose(res(alpha="learned"), np.full(L, q0))
    plain = variance_recursion(Arch(), "relu", L, q0, 2.0)
    np.testing.assert_allclose(plain, np.full(L, q0), rtol=1e-12)  # He's rule keeps it
    tanh_small = variance_recursion(Arch(), "tanh", 3, 1.0, 64 * 0.01**2)
    assert tanh_small[1] == pytest.approx(64e-4 * 0.3942, rel=1e-3)  # E[tanh(z)^2] at q = 1 is 0.3942
    normed = variance_recursion(Arch(norm="layer"), "tanh", 4, 1e-5, 64 * 0.01**2)
    assert normed[0] == pytest.approx(0.5)  # Var(z) = EPS: u = z / sqrt(Var(z) + EPS) has variance 1/2
    assert 0.99 < normed[-1] < 1.0


WIDE = ExperimentConfig(
    depth=30, width=256, activation="relu", schemes=("he_normal",), steps=0, batch_size=512, block="residual"
)


@pytest.mark.parametrize(
    "changes",
    [
        dict(norm="batch"),
        dict(norm="layer"),
        dict(alpha="inv_sqrt_l"),
        dict(alpha="inv_sqrt_2l"),
        dict(alpha="learned"),
    ],
    ids=lambda c: "-".join(c.values()),
)
def test_measured_stream_std_within_10_percent_of_the_recursion(changes: dict) -> None:
    c = WIDE.replace(**changes)
    r = run_modern([c])[0]
    pred = np.sqrt(variance_recursion(arch_of(c), "relu", c.depth, r.input_std[0] ** 2, 2.0))
    np.testing.assert_allclose(r.layer_stats["stream_std"][0], pred, rtol=0.10)


def test_residual_stream_doubles_per_block_without_norm() -> None:
    """One network's product of 30 random growth factors wanders (~20 % in std); its mean factor does not."""
    for seed in range(3):
        r = run_modern([WIDE.replace(seed=seed)])[0]
        std = r.layer_stats["stream_std"][0]
        factor = (std[-1] ** 2 / r.input_std[0] ** 2) ** (1 / WIDE.depth)
        assert factor == pytest.approx(2.0, rel=0.10)


def test_plain_norm_keeps_unit_variance_where_the_plain_network_collapses() -> None:
    c = ExperimentConfig(depth=20, width=64, schemes=("normal",), weight_std=0.01, steps=0, batch_size=256)
    none, bn = run_modern([c, c.replace(norm="batch")])
    q1 = none.first_pre_std[0] ** 2
    pred = np.sqrt(variance_recursion(Arch(), "tanh", 20, q1, 64 * 0.01**2))
    std = none.layer_stats["pre_std"][0]
    # per layer the std shrinks by the same factor as predicted (the 2-D input keeps the signal rank-2, so
    # each layer's factor is a sum of few random terms and their product wanders, as in the residual case)
    assert (std[-1] / std[0]) ** (1 / 19) == pytest.approx((pred[-1] / pred[0]) ** (1 / 19), rel=0.05)
    assert none.layer_stats["pre_std"][0][-1] < 1e-20
    q_bn = variance_recursion(Arch(norm="batch"), "tanh", 20, bn.first_pre_std[0] ** 2, 64 * 0.01**2)
    # layer 1's units have unequal variances (2 inputs), and v / (v + EPS) averages below its value at the mean
    np.testing.assert_allclose(bn.layer_stats["pre_std"][0], np.sqrt(q_bn), rtol=0.05)
    np.testing.assert_allclose(bn.layer_stats["pre_std"][0][1:], np.sqrt(q_bn[1:]), rtol=0.01)
    assert bn.layer_stats["pre_std"][0][0] < 0.95  # EPS = 1e-5 is not small beside layer 1's Var(z) ~ 1e-4


# --------------------------------------------------------------------------- symmetry and training


@pytest.mark.parametrize("norm", ["batch", "layer"])
@pytest.mark.parametrize("block", BLOCKS)
def test_normalization_does_not_break_symmetry(norm: str, block: str) -> None:
    c = ExperimentConfig(
        depth=4, width=16, schemes=("constant",), weight_const=0.5, steps=300, norm=norm, block=block
    )
    r = run_modern([c])[0]
    assert r.eval_steps[-1] == 300 and r.diverged_at is None
    np.testing.assert_array_equal(r.layer_stats["distinct"], 1)
    random = run_modern([c.replace(schemes=("xavier_normal",))])[0]
    assert (random.layer_stats["distinct"][-1] == 16).all()


def test_skipinit_trains_at_depth_50_where_the_plain_network_does_not() -> None:
    c = ExperimentConfig(
        depth=50, width=32, activation="relu", schemes=("he_normal",), steps=150, record_every=50,
        optimizer="momentum", lr=0.05,
    )  # fmt: skip
    plain, skip = run_modern([c, c.replace(block="residual", alpha="learned")])
    assert skip.train_loss[-1] < 0.8 * plain.train_loss[-1]
    assert skip.layer_stats["alpha"][-1].std() > 0  # every block learned its own alpha


def test_divergence_is_recorded_not_raised() -> None:
    c = ExperimentConfig(
        depth=40, width=32, activation="relu", schemes=("he_normal",), steps=20, block="residual"
    )
    r = run_modern([c])[0]
    assert r.diverged_at is not None and "step" in r.divergence
    assert len(r.loss) == r.diverged_at


def test_core_train_trains_residual_configs_with_core_modern() -> None:
    """core.train (the Training and Depth lessons' entry point) hands residual / normalized configs to core.modern."""
    from core.train import run_many

    c = ExperimentConfig(steps=3, record_every=1, block="residual", norm="layer", depth=3, width=8)
    rec = run_many([c])[0]
    np.testing.assert_array_equal(rec.loss, run_modern([c])[0].loss)
    assert rec.extra["block"] == "residual" and rec.extra["norm"] == "layer"


# ---------------------------------------------------------------- the options on the Depth and Training lessons

LINK = {"block": "residual", "norm": "batch", "alpha": "inv_sqrt_l"}


@pytest.mark.parametrize("page", ["depth", "training"])
def test_residual_batchnorm_link_opens_trains_and_shares_on_depth_and_training(page: str) -> None:
    """A residual + BatchNorm link opens, trains that network (core.modern) and keeps the options in its link."""
    from tests.apptest_util import open_page, share_link, url_notices

    query = {**LINK, "depth": "6", "steps": "20"}
    at = open_page(page, query, timeout=180)
    assert not at.exception, at.exception
    assert url_notices(at) == [] and not at.error
    for key, value in LINK.items():
        assert at.session_state[key] == value
    assert len(at.get("plotly_chart")) >= 2  # the lower views are tabs (Depth draws 2 on load)
    link = share_link(at)
    for key, value in LINK.items():
        assert f"{key}={value}" in link, link
    # every chart has data (plotly sends arrays as lists or as base64 "bdata")
    for chart in at.get("plotly_chart"):
        traces = json.loads(chart.proto.spec)["data"]
        assert any(tr.get("y") or tr.get("z") for tr in traces), traces[:1]


def test_depth_page_draws_no_mean_field_line_for_a_residual_network() -> None:
    from tests.apptest_util import open_page

    at = open_page("depth", {**LINK, "depth": "6", "steps": "10"}, timeout=180)
    names = [tr.get("name", "") for c in at.get("plotly_chart") for tr in json.loads(c.proto.spec)["data"]]
    assert not any("mean-field" in n for n in names), names
    assert any("is for plain networks without normalization" in m.value for m in at.markdown)


def test_lsuv_on_a_residual_link_is_a_plain_error_not_a_traceback() -> None:
    from tests.apptest_util import open_page

    at = open_page("depth", {"init": "lsuv", "block": "residual"}, timeout=120)
    assert not at.exception
    assert any("LSUV rescales the layers of a plain network" in e.value for e in at.error)
