"""The take-home PyTorch scripts: every lesson preset's script runs and reproduces the app's run.

Exact where it can be (data, batches, training from the app's own initial weights), within sampling error where
PyTorch draws its own weights (the std of every layer at the start, the final loss).
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
import os
import re
import runpy
import subprocess
import sys

import numpy as np
import pytest

from core import phase, takehome
from core.config import ExperimentConfig, fit_to_budget
from core.data import DATASETS, load
from core.initializers import SCHEMES, bias_std, weight_std
from core.train import batch_indices, initial_network, init_params, run_experiment
from tests.apptest_util import config_from_link, open_page, open_takehome
from ui import nav
from ui.presets import PRESETS

torch = pytest.importorskip("torch")

# The presets train for up to 300 steps; the scripts here train for at most TEST_STEPS (the same config with
# fewer steps, for the app and the script alike) to keep CI short: the comparison does not change in kind.
TEST_STEPS = 20
# Float64, same data, batches and initial weights: the script and the app differ only in the order of
# floating-point operations (rounding ~1e-16 per operation), which training amplifies. Measured at most
# 3e-8 relative over 100 Adam steps of 10 tanh layers (the largest of the presets' runs): 1e-6 leaves margin
# and still fails on any real difference (a wrong learning rate, batch or momentum moves the loss by > 1e-3).
RTOL_EXACT = 1e-6
# In the chaotic phase (N(0, 1) weights at fan-in 64, tanh: chi_1 >> 1, Poole et al. 2016) the network amplifies
# every difference, rounding too, by orders of magnitude per layer: the two runs agree on the first two steps
# (measured 1e-9) and then part, as two runs of a chaotic system do. Only those steps are compared there.
CHAOTIC = {"depth: N(0,1), 10 tanh layers"}
N_DRAWS = 6  # PyTorch seeds for the sampling spread of a random start
SIGMAS = 5.0  # tolerance in standard deviations of that spread


def _run_as_a_student(text: str, tmp_path) -> str:
    """Run the script as a student does: a fresh python, isolated (-I: no PYTHONPATH, no user site) from a
    folder holding only the script, so nothing of the app can be imported; returns what it prints."""
    folder = tmp_path / "student"
    folder.mkdir(exist_ok=True)
    (folder / "initlab.py").write_text(text)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-I", "initlab.py"], cwd=folder, capture_output=True, text=True, timeout=600, env=env
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def _phase_cell() -> ExperimentConfig:
    """The cell the Phase page picks at its defaults (pages/phase.py): the critical σ_w, depth nearest 20."""
    pc, _ = phase.fit_phase(phase.PhaseConfig())
    sw = phase.nearest(phase.sigma_ws(pc), phase.critical_sigma_w(pc.activation, pc.sigma_b))
    return phase.cell_config(pc, sw, phase.nearest(phase.depths(pc), 20))


@functools.cache
def _preset(preset: str) -> tuple[ExperimentConfig, str]:
    """The config of the page a preset opens and the script that page shows (one AppTest per preset)."""
    p = next(p for p in PRESETS if f"{p.page}: {p.label}" == preset)
    at = open_page(p.page, p.query_params(), timeout=300)
    assert not at.exception
    assert not [c for c in at.code if c.value.startswith('"""Init Lab')], "the script is drawn while closed"
    shown = open_takehome(at, p.page)
    # the page runs its link's config as cut to the work budget (share.report), and shows that one's script
    return (_phase_cell() if p.page == "phase" else fit_to_budget(config_from_link(at, {}))[0]), shown


@pytest.fixture
def preset_runs():
    class Lazy:
        def __getitem__(self, preset):
            return _preset(preset)

    return Lazy()


PRESET_IDS = [f"{p.page}: {p.label}" for p in PRESETS if p.page != "modern"]  # modern: its own tests below


def _title(page: str) -> str:
    return f"Init Lab · {nav.by_url_path(page).title}"


def _load_script(text: str, tmp_path, name: str = "initlab_takehome.py") -> dict:
    path = tmp_path / name
    path.write_text(text)
    return runpy.run_path(str(path), run_name="initlab_takehome")  # defines, does not run main()


def _app_weights_into(model, config: ExperimentConfig, scheme: str, X0: np.ndarray) -> None:
    """Overwrite the script's model with the app's initial weights (PyTorch stores W transposed)."""
    net = initial_network(config, scheme, X0)
    linear = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert len(linear) == len(net.weights)
    with torch.no_grad():
        for layer, W, b in zip(linear, net.weights, net.biases):
            layer.weight.copy_(torch.tensor(W.T))
            layer.bias.copy_(torch.tensor(b))


def _parse(out: str) -> dict[str, dict]:
    """{scheme: {"std": [...], "loss": float}} from the script's printout."""
    res: dict[str, dict] = {}
    scheme = None
    for line in out.splitlines():
        m = re.match(r"^(\w+): activation std at initialization", line)
        if m:
            scheme = m.group(1)
            res[scheme] = {}
        elif line.strip().startswith("init_std"):
            res[scheme]["std"] = [float(v) for v in line.split()[1:]]
        elif line.strip().startswith("final_loss"):
            res[scheme]["loss"] = float(line.split()[1])
    return res


# ---------------------------------------------------------------------------------- every preset
@pytest.mark.parametrize("preset", PRESET_IDS)
def test_the_page_shows_the_script_of_its_experiment(preset_runs, preset):
    cfg, shown = preset_runs[preset]
    page = preset.split(":")[0]
    assert shown.rstrip("\n") == takehome.script(cfg, _title(page)).rstrip(
        "\n"
    )  # st.code drops the last newline
    assert takehome.filename(page, cfg).startswith(f"initlab_{page}_")


@pytest.mark.parametrize("preset", PRESET_IDS)
def test_script_trains_exactly_as_the_app_from_the_apps_weights(preset_runs, preset, tmp_path):
    """Same data, batches, forward pass, loss and optimizer: from the app's own initial weights the script's
    per-step losses and final loss equal the app's up to float64 rounding."""
    cfg, _ = preset_runs[preset]
    cfg = cfg.replace(steps=min(cfg.steps, TEST_STEPS))
    mod = _load_script(takehome.script(cfg), tmp_path)
    X, y, _, _ = mod["make_data"]()
    data = load(cfg.dataset, cfg.n_samples, cfg.noise, cfg.n_classes, cfg.data_seed)
    assert np.array_equal(X.numpy(), data.X_train) and np.array_equal(y.numpy(), data.y_train)
    batches = mod["batch_indices"](len(y))
    assert np.array_equal(batches, batch_indices(cfg, len(y)))
    records = run_experiment(cfg)
    for scheme, rec in records.items():
        model = mod["build"](scheme, X[batches[0]])
        _app_weights_into(model, cfg, scheme, data.X_train[batch_indices(cfg, len(y))[0]])
        stds = mod["layer_stds"](model, X[batches[0]])
        np.testing.assert_allclose(stds, rec.layer_stats["act_std"][0], rtol=1e-10, atol=1e-300)
        losses, final = mod["train"](model, X, y, batches)
        assert rec.diverged_at is None
        if preset in CHAOTIC:
            np.testing.assert_allclose(losses[:2], rec.loss[:2], rtol=RTOL_EXACT)
            continue
        np.testing.assert_allclose(losses, rec.loss, rtol=RTOL_EXACT)
        assert final == pytest.approx(float(rec.train_loss[-1]), rel=RTOL_EXACT)


def _draw_spread(mod: dict, X, y, batches, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """log10 of each layer's initial std, and the final losses, over N_DRAWS other PyTorch seeds."""
    logs, finals = [], []
    script_globals = mod["make_model"].__globals__  # runpy returns a copy; build() reads SEED from these
    seed0 = script_globals["SEED"]
    for seed in range(1, N_DRAWS + 1):
        script_globals["SEED"] = seed0 + seed  # torch's seed only: the batches were drawn before
        model = mod["build"](scheme, X[batches[0]])
        logs.append(np.log10(np.maximum(mod["layer_stds"](model, X[batches[0]]), 1e-300)))
        finals.append(mod["train"](model, X, y, batches)[1])
    script_globals["SEED"] = seed0
    return np.array(logs), np.array(finals)


# A fresh python that imports torch, plus N_DRAWS PyTorch trainings: measured up to 5 min wall time when the
# 2 CPUs are shared with other jobs, past pytest-timeout's default of 300 s.
@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("preset", PRESET_IDS)
def test_the_script_run_on_its_own_matches_the_app(preset_runs, preset, tmp_path):
    """The script as a student runs it (a fresh python, its own PyTorch draws): the printed initial std of
    every layer and the final loss lie within SIGMAS standard deviations of the spread PyTorch's draws of the
    same rule have (measured over N_DRAWS seeds), or equal the app's to float64 rounding where the start
    has no randomness (zeros, constant)."""
    cfg, _ = preset_runs[preset]
    cfg = cfg.replace(steps=min(cfg.steps, TEST_STEPS))
    text = takehome.script(cfg)
    printed = _parse(_run_as_a_student(text, tmp_path))
    records = run_experiment(cfg)
    assert set(printed) == set(records)
    mod = _load_script(text, tmp_path)
    X, y, _, _ = mod["make_data"]()
    batches = mod["batch_indices"](len(y))
    for scheme, rec in records.items():
        app_std = rec.layer_stats["act_std"][0]
        got = np.array(printed[scheme]["std"])
        random_start = scheme not in ("zeros", "constant") or cfg.bias_init in ("normal", "standard_uniform")
        if not random_start:
            np.testing.assert_allclose(got, app_std, rtol=1e-5, atol=1e-300)  # printed with 6 digits
            assert printed[scheme]["loss"] == pytest.approx(float(rec.train_loss[-1]), rel=RTOL_EXACT)
            continue
        logs, finals = _draw_spread(mod, X, y, batches, scheme)
        # the app's draw and the script's are two more draws of the same distribution
        centre, sd = logs.mean(axis=0), logs.std(axis=0, ddof=1)
        for name, value in (("app", app_std), ("script", got)):
            dev = np.abs(np.log10(np.maximum(value, 1e-300)) - centre)
            assert (dev <= SIGMAS * sd + 1e-5).all(), (name, scheme, dev, sd)
        f_centre, f_sd = finals.mean(), finals.std(ddof=1)
        for value in (float(rec.train_loss[-1]), printed[scheme]["loss"]):
            assert abs(value - f_centre) <= SIGMAS * f_sd + 1e-9, (scheme, value, f_centre, f_sd)


# -------------------------------------------------------------------------------- every scheme
VARIANTS = [
    ExperimentConfig(
        depth=2,
        width=48,
        activation=act,
        gain=gain,
        scale=scale,
        he_mode=mode,
        bias_init=bias,
        bias_value=0.3,
        leaky_slope=0.2,
        weight_std=0.05,
        weight_const=0.25,
        weight_bound=0.2,
        schemes=tuple(SCHEMES),
    )  # fmt: skip
    for act, gain, scale, mode, bias in (
        ("tanh", "1", 1.0, "fan_in", "zeros"),
        ("tanh", "auto", 2.0, "fan_out", "normal"),
        ("leaky_relu", "auto", 0.5, "fan_out", "standard_uniform"),
        ("gelu", "auto", 1.0, "fan_in", "constant"),
        ("relu", "1", 3.0, "fan_in", "zeros"),
    )
]


@pytest.mark.parametrize("config", VARIANTS, ids=lambda c: f"{c.activation}-{c.gain}-{c.scale}-{c.he_mode}")
def test_every_scheme_samples_the_apps_distribution(config, tmp_path):
    """Each layer's weights and biases drawn by the script's torch.nn.init calls have the std (and mean 0)
    of core.initializers' distribution for that scheme: within 5 / sqrt(2 n) relative for n weights (the
    sampling sd of a std is sqrt((kurtosis - 1) / (4 n)) <= 1 / sqrt(2 n) for the normal, uniform and
    truncated normal); orthogonal weights exactly g Q; zeros and constants exactly."""
    mod = _load_script(takehome.script(config), tmp_path)
    X, y, _, _ = mod["make_data"]()
    x0 = X[mod["batch_indices"](len(y))[0]]
    p = init_params(config)
    for scheme in SCHEMES:
        model = mod["build"](scheme, x0)
        linear = [m for m in model if isinstance(m, torch.nn.Linear)]
        for layer in linear:
            w = layer.weight.detach().numpy()
            fan_out, fan_in = w.shape
            if scheme == "lsuv":  # rescaled on the batch: each layer's output has variance 1 within 0.05
                continue
            want = weight_std(scheme, fan_in, fan_out, config.activation, **p)
            n = w.size
            if scheme == "orthogonal":
                g = want * math.sqrt(max(fan_in, fan_out))
                gram = w @ w.T if fan_out <= fan_in else w.T @ w
                np.testing.assert_allclose(gram, g * g * np.eye(len(gram)), atol=1e-12 * g * g)
            elif scheme in ("zeros", "constant"):
                value = 0.0 if scheme == "zeros" else np.ravel(initial_network(config, scheme).weights[0])[0]
                assert (w == value).all()
            else:
                assert w.std() == pytest.approx(want, rel=5 / math.sqrt(2 * n)), (scheme, fan_in, fan_out)
                assert abs(w.mean()) <= 5 * want / math.sqrt(n)
            b = layer.bias.detach().numpy()
            want_b = bias_std(config.bias_init, fan_in, config.bias_value)
            if config.bias_init in ("zeros", "constant"):
                assert (b == (config.bias_value if config.bias_init == "constant" else 0.0)).all()
            else:  # few biases per layer: only a loose check of the scale
                assert 0.2 * want_b < np.sqrt(np.mean(b**2)) < 3 * want_b
        if scheme == "lsuv":
            h = x0
            for m in model:
                if isinstance(m, torch.nn.Linear):
                    assert abs(float((h @ m.weight.T + m.bias).detach().var(correction=0)) - 1.0) < 0.05
                h = m(h).detach()


def _data_config(dataset: str) -> ExperimentConfig:
    return ExperimentConfig(
        dataset=dataset, n_samples=500, n_classes=4, noise=0.2, data_seed=7, depth=1, steps=3, input_dim=30
    )


def _body(f) -> tuple:
    """What a function does, not where it was written: its bytecode and constants (inner functions alike)."""
    code = getattr(f, "__wrapped__", f).__code__ if not inspect.iscode(f) else f  # lru_cache wraps the loader
    return code.co_code, tuple(_body(c) if inspect.iscode(c) else c for c in code.co_consts)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_every_data_set_is_generated_as_the_app_does(dataset, tmp_path):
    """The script's functions are core.data's own (the same bytecode and constants: one definition), and its
    make_data (generate, split, standardize, to torch) gives the app's arrays exactly."""
    import core.data

    cfg = _data_config(dataset)
    mod = _load_script(takehome.script(cfg), tmp_path)
    from_app = {
        n: f for n, f in vars(core.data).items() if inspect.isfunction(f) and f.__module__ == "core.data"
    }
    shared = [n for n in mod if inspect.isfunction(mod[n]) and (n in from_app or f"_{n}" in from_app)]
    assert (
        "stratified_split" in shared and len(shared) >= 2
    )  # the split and the data set's generator at least
    for name in shared:
        app = from_app.get(name) or from_app[f"_{name}"]
        assert _body(mod[name]) == _body(app), name
    X, y, Xt, yt = mod["make_data"]()
    data = load(cfg.dataset, cfg.n_samples, cfg.noise, cfg.n_classes, cfg.data_seed, dim=cfg.input_dim)
    for a, b in ((X, data.X_train), (y, data.y_train), (Xt, data.X_test), (yt, data.y_test)):
        assert np.array_equal(a.numpy(), b)


# The modules a student needs (README of the script: pip install torch numpy scikit-learn) and Python's own.
THIRD_PARTY = {"numpy", "torch", "sklearn"}


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_the_script_imports_nothing_of_the_app(dataset):
    """Every import of every script (at the top or inside a function) is Python's own, numpy, torch or
    scikit-learn: the data code taken from core/data.py brings its imports, not the app's modules."""
    for text in (
        takehome.script(_data_config(dataset)),
        takehome.modern_script([_data_config(dataset)], ["a"]),
    ):
        modules = set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                modules.add(node.module.split(".")[0])
        assert modules - sys.stdlib_module_names <= THIRD_PARTY, modules


@pytest.mark.slow
def test_the_digits_script_runs_on_its_own(tmp_path):
    """The data set whose code brings the most with it (a cached, locked loader) runs as a student runs it
    and prints what the app's run gives where nothing is random (zeros)."""
    cfg = _data_config("digits").replace(schemes=("zeros",), steps=2)
    printed = _parse(_run_as_a_student(takehome.script(cfg), tmp_path))
    rec = run_experiment(cfg)["zeros"]
    assert printed["zeros"]["loss"] == pytest.approx(float(rec.train_loss[-1]), rel=RTOL_EXACT)


def test_float32_and_every_optimizer_train_as_the_app(tmp_path):
    """Adam and momentum from the app's weights, in float32 too (rounding 1e-7: the loss agrees to 1e-4)."""
    for opt, dtype, rtol in (("momentum", "float64", RTOL_EXACT), ("adam", "float32", 1e-4)):
        cfg = ExperimentConfig(optimizer=opt, dtype=dtype, lr=0.01, steps=40, schemes=("he_uniform",),
                               activation="leaky_relu", gain="auto", he_mode="fan_out")  # fmt: skip
        mod = _load_script(takehome.script(cfg), tmp_path, f"s_{opt}.py")
        X, y, _, _ = mod["make_data"]()
        assert X.dtype == getattr(torch, dtype)
        batches = mod["batch_indices"](len(y))
        rec = run_experiment(cfg)["he_uniform"]
        model = mod["build"]("he_uniform", X[batches[0]])
        data = load(cfg.dataset, cfg.n_samples, cfg.noise, cfg.n_classes, cfg.data_seed)
        _app_weights_into(model, cfg, "he_uniform", data.X_train[batch_indices(cfg, len(y))[0]])
        losses, final = mod["train"](model, X, y, batches)
        np.testing.assert_allclose(losses, rec.loss, rtol=rtol)
        assert final == pytest.approx(float(rec.train_loss[-1]), rel=rtol)


def test_the_script_is_clean_python():
    """Every generated script compiles, has no question mark (the page tests find the share link by it) and
    names its numbers once."""
    for cfg in VARIANTS + [ExperimentConfig(dataset="digits", schemes=("lsuv", "he_normal"), gain="auto")]:
        text = takehome.script(cfg, "Init Lab · Depth")
        compile(text, "initlab.py", "exec")
        assert "?" not in text
        assert f"LR, BATCH_SIZE, STEPS, SEED = {cfg.lr!r}, {cfg.batch_size}, {cfg.steps}, {cfg.seed}" in text


# ---------------------------------------------------------------- normalization and residuals (/modern)
def _modern_parts() -> dict:
    from analysis import modern as fm

    base = ExperimentConfig(**fm.DEFAULTS, **fm.FIXED).replace(steps=TEST_STEPS)
    out = {}
    for name in fm.PARTS:
        part = getattr(fm, name)
        out[name] = ([c.replace(steps=min(c.steps, TEST_STEPS)) for c in part.configs(base)], part.labels)
    # two dense layers per branch, LayerNorm and a learned alpha in one residual net, and float32 Adam
    two = base.replace(block="residual", branch_layers=2, schemes=("he_normal",), activation="relu", depth=6)
    out["branch2"] = (
        [two, two.replace(norm="layer", alpha="learned"), two.replace(norm="batch", alpha="inv_sqrt_2l")],
        [
            "two-layer branch",
            "two-layer branch + LayerNorm, learned α",
            "two-layer branch + BatchNorm, 1/√(2L)",
        ],
    )
    adam = two.replace(norm="batch", optimizer="adam", lr=0.01, dtype="float32")
    out["adam-float32"] = ([adam], ["two-layer branch + BatchNorm, Adam, float32"])
    return out


# A training run amplifies rounding differences where its gradients explode (deep plain BatchNorm networks at
# initialization: Yang et al. 2019, "A mean field theory of batch normalization"): measured, a change of the
# app's own first weights by 1e-15 relative moves the race's plain + BatchNorm loss by 9 % within 3 steps.
# The script is held to the app's losses for as long as the app's own run is insensitive to such a change
# (below SENSITIVE relative); after that the two runs are two equally valid roundings of a chaotic system.
SENSITIVE = 1e-9


def _insensitive_steps(cfg: ExperimentConfig, rec) -> int:
    """How many of the app's losses move by less than SENSITIVE when its first weights change by 1e-15."""
    from core.modern import Optimizer, network
    from core.train import _load

    data = _load(cfg, {})
    net = network(cfg, data.X_train.shape[1], data.n_classes)
    net.params["W0"] *= 1 + 1e-15
    opt, idx = Optimizer(cfg.optimizer, cfg.lr, net.params), batch_indices(cfg, len(data.X_train))
    for s, want in enumerate(rec.loss):
        loss, G, _ = net.loss_and_grads(data.X_train[idx[s]], data.y_train[idx[s]], "train")
        if not abs(loss - want) <= SENSITIVE * abs(want):
            return s
        opt.step(net.params, G)
    return len(rec.loss)


MODERN = _modern_parts()


def _app_modern_weights_into(model, config: ExperimentConfig, d: int, k: int) -> None:
    """Overwrite the script's model with core.modern's initial weights (gamma 1, beta 0, alpha 0 as both)."""
    from core.modern import network

    net = network(config, d, k)
    linear = model.linears()
    assert len(linear) == net.n_dense
    with torch.no_grad():
        for i, layer in enumerate(linear):
            layer.weight.copy_(torch.tensor(net.params[f"W{i}"].T))
            layer.bias.copy_(torch.tensor(net.params[f"b{i}"]))


def _first_gradients_agree(model, cfg: ExperimentConfig, xb, yb, rtol: float) -> None:
    """The gradient of every dense layer on the first mini-batch (training mode) equals core.modern's."""
    import copy

    from core.modern import network

    probe = copy.deepcopy(model)  # the running statistics of `model` must not move
    probe.train()
    probe.zero_grad()
    torch.nn.functional.cross_entropy(probe(xb), yb).backward()
    net = network(cfg, xb.shape[1], int(probe.out.out_features))
    for i, layer in enumerate(probe.linears()):
        net.params[f"W{i}"][...] = layer.weight.detach().numpy().T
        net.params[f"b{i}"][...] = layer.bias.detach().numpy()
    _, G, _ = net.loss_and_grads(xb.numpy(), yb.numpy(), "train")
    # relative to the network's largest gradient: a layer whose gradient is rounding noise (identical units
    # after a norm: 1e-29) is compared at the scale that matters
    scale = max(np.abs(G[f"W{i}"]).max() for i in range(net.n_dense))
    for i, layer in enumerate(probe.linears()):
        np.testing.assert_allclose(layer.weight.grad.numpy().T, G[f"W{i}"], rtol=rtol, atol=rtol * scale)


def _parse_modern(out: str) -> list[dict]:
    res: list[dict] = []
    for line in out.splitlines():
        if re.match(r"^\[\d+\] ", line):
            res.append({"diverged": False})
        elif line.strip().startswith("init_std"):
            res[-1]["std"] = [float(v) for v in line.split()[1:]]
        elif line.strip().startswith("final_loss"):
            res[-1]["loss"] = float(line.split()[1])
        elif line.strip().startswith("diverged at step"):
            res[-1]["diverged"] = True
    return res


@pytest.mark.timeout(900)
@pytest.mark.parametrize("part", list(MODERN))
def test_modern_script_trains_exactly_as_the_app_from_the_apps_weights(part, tmp_path):
    """Same data, batches, architecture (norm placement, running statistics, alpha), loss and optimizer: from
    core.modern's initial weights the script's per-block std at the start, its per-step losses and its
    final evaluation-mode loss equal the app's up to floating-point rounding."""
    from core.modern import run_modern

    configs, labels = MODERN[part]
    mod = _load_script(takehome.modern_script(configs, labels), tmp_path)
    X, y, _, _ = mod["make_data"]()
    batches = mod["batch_indices"](len(y))
    assert np.array_equal(batches, batch_indices(configs[0], len(y)))
    # float32: rounding 6e-8 per operation, so 1e-4 (as test_float32_and_every_optimizer_train_as_the_app)
    rtol, std_rtol = (1e-4, 1e-5) if configs[0].dtype == "float32" else (RTOL_EXACT, 1e-9)
    for cfg, label, rec in zip(configs, labels, run_modern(configs)):
        model = mod["build"](label)
        _app_modern_weights_into(model, cfg, X.shape[1], int(y.max()) + 1)
        stds = mod["layer_stds"](model, X[batches[0]])
        np.testing.assert_allclose(stds, rec.layer_stats["stream_std"][0], rtol=std_rtol, atol=1e-30)
        _first_gradients_agree(
            model, cfg, X[batches[0]], y[batches[0]], rtol=1e-3 if cfg.dtype == "float32" else 1e-8
        )
        losses, final = mod["train"](model, X, y, batches)
        if rec.diverged_at is not None:  # the same step's loss is the first non-finite one in both
            assert len(losses) == rec.diverged_at == len(rec.loss), (label, len(losses), rec.diverged_at)
        n = len(rec.loss) if cfg.dtype == "float32" else _insensitive_steps(cfg, rec)
        assert n >= min(1, len(rec.loss)), label  # the first step is always compared
        np.testing.assert_allclose(losses[:n], rec.loss[:n], rtol=rtol, err_msg=label)
        if n == len(rec.loss) and rec.diverged_at is None:
            assert final == pytest.approx(float(rec.train_loss[-1]), rel=rtol), label


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("part", ["RESCUE", "SYMMETRY", "STREAMS", "RACE"])
def test_modern_script_run_on_its_own_matches_the_app(part, tmp_path):
    """The modern script as a student runs it: the printed initial std of every block and the final loss lie
    within SIGMAS standard deviations of the spread over N_DRAWS PyTorch seeds (the app's draw is one more
    draw of the same distribution), or equal the app's where the start has no randomness (constant)."""
    from core.modern import run_modern

    configs, labels = MODERN[part]
    text = takehome.modern_script(configs, labels)
    printed = _parse_modern(_run_as_a_student(text, tmp_path))
    records = run_modern(configs)
    assert len(printed) == len(records)
    mod = _load_script(text, tmp_path)
    X, y, _, _ = mod["make_data"]()
    batches = mod["batch_indices"](len(y))
    g = mod["train"].__globals__  # the script's globals (build's are torch's: @torch.no_grad wraps it)
    for cfg, label, rec, got in zip(configs, labels, records, printed):
        app_std = rec.layer_stats["stream_std"][0]
        if cfg.schemes[0] == "constant":  # no randomness at the start: equal to the printed digits
            np.testing.assert_allclose(got["std"], app_std, rtol=1e-5, atol=1e-300)
            assert got["loss"] == pytest.approx(float(rec.train_loss[-1]), rel=RTOL_EXACT)
            continue
        logs, finals, diverged = [], [], []
        for seed in range(1, N_DRAWS + 1):
            g["SEED"] = cfg.seed + seed  # torch's seed only: the batches were drawn before
            model = mod["build"](label)
            logs.append(np.log10(np.maximum(mod["layer_stds"](model, X[batches[0]]), 1e-300)))
            losses, final = mod["train"](model, X, y, batches)
            diverged.append(len(losses) < cfg.steps)
            finals.append(final)
        g["SEED"] = cfg.seed
        logs = np.array(logs)
        centre, sd = logs.mean(axis=0), logs.std(axis=0, ddof=1)
        for name, value in (("app", app_std), ("script", got["std"])):
            dev = np.abs(np.log10(np.maximum(value, 1e-300)) - centre)
            assert (dev <= SIGMAS * sd + 1e-5).all(), (name, label, dev, sd)
        if rec.diverged_at is not None:  # every draw of this network diverges too, the printed one included
            assert all(diverged) and got["diverged"], label
            continue
        assert not any(diverged) and not got["diverged"], label
        finals = np.array(finals)
        f_centre, f_sd = finals.mean(), finals.std(ddof=1)
        for value in (float(rec.train_loss[-1]), got["loss"]):
            assert abs(value - f_centre) <= SIGMAS * f_sd + 1e-9, (label, value, f_centre, f_sd)
