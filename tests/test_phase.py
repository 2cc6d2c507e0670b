"""Tests of core.phase, analysis.phase and figures.phase: the grid means what the page says, and the experiment meets the theory.

Small real grids are trained (tens of cells, a few seconds); the cache and batching logic use a stub trainer.
"""

from __future__ import annotations

import math
import sys
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import phase, phase_worker
from core import process as cpus
from core.train import initial_network
from analysis import phase as ap
from figures import phase as fp

TANH = phase.PhaseConfig(activation="tanh", sigma_b=0.0, dataset="moons", steps=200, seed=0)


# ------------------------------------------------------------------ theory the page relies on


def test_critical_scale_comes_from_theory():
    # ReLU: chi_1 = sigma_w^2 / 2, so chi_1 = 1 at sigma_w^2 = 2 (He); tanh with sigma_b = 0: sigma_w^2 = 1.
    assert phase.critical_sigma_w("relu", 0.0) == pytest.approx(math.sqrt(2), rel=1e-9)
    assert phase.critical_sigma_w("tanh", 0.0) == pytest.approx(1.0, rel=1e-9)
    t = phase.theory_curves("relu", 0.0, np.array([1.0, math.sqrt(2), 2.0]))
    assert t["chi1"].tolist() == pytest.approx([0.5, 1.0, 2.0], rel=1e-9)
    # Above the ReLU critical scale q* is infinite: the signal explodes and the xi line is not drawn.
    assert math.isinf(t["q_star"].iloc[2]) and math.isnan(t["trainable_depth"].iloc[2])


@pytest.mark.parametrize("sigma_b", [0.0, 0.1, 0.3])
def test_tanh_chi1_crosses_one_at_the_critical_scale(sigma_b):
    c = phase.critical_sigma_w("tanh", sigma_b)
    t = phase.theory_curves("tanh", sigma_b, np.array([0.8 * c, 1.25 * c, 0.99 * c]))
    assert t["chi1"].iloc[0] < 1.0 < t["chi1"].iloc[1]
    # The trainable depth is TRAINABLE_MULTIPLE xi and grows as sigma_w nears the critical scale.
    assert t["trainable_depth"].iloc[2] == pytest.approx(phase.TRAINABLE_MULTIPLE * t["xi"].iloc[2])
    assert t["xi"].iloc[2] > 5 * t["xi"].iloc[0]


@pytest.mark.parametrize("sigma_b", [0.0, 0.1])
def test_xi_grows_without_bound_towards_the_critical_scale(sigma_b):
    c = phase.critical_sigma_w("tanh", sigma_b)
    xi = phase.theory_curves("tanh", sigma_b, c * (1 - np.array([1e-1, 1e-2, 1e-3])))["xi"].to_numpy()
    assert np.all(np.diff(xi) > 0) and xi[-1] > 50 * xi[0]
    assert math.isinf(phase.theory_curves("tanh", sigma_b, np.array([c]))["xi"].iloc[0]) or xi[-1] > 100


def test_ordered_tanh_xi_matches_closed_form():
    # tanh, sigma_b = 0, sigma_w < 1: q* = 0, phi'(0) = 1, so chi_c = chi_1 = sigma_w^2 and xi = -1 / ln sigma_w^2.
    sw = np.array([0.25, 0.5, 0.8])
    t = phase.theory_curves("tanh", 0.0, sw)
    assert t["xi"].to_numpy() == pytest.approx(-1 / np.log(sw**2), rel=1e-6)


# ------------------------------------------------------------------ the grid and its cells


def test_fine_grid_contains_coarse_grid_exactly():
    for act in ("tanh", "relu"):
        coarse = phase.PhaseConfig(activation=act, resolution="coarse")
        fine = phase.PhaseConfig(activation=act, resolution="fine")
        assert set(phase.sigma_ws(coarse)) <= set(phase.sigma_ws(fine))
        assert set(phase.depths(coarse)) <= set(phase.depths(fine))
        assert (len(phase.sigma_ws(coarse)), len(phase.depths(coarse))) == (9, 6)
        assert (len(phase.sigma_ws(fine)), len(phase.depths(fine))) == (17, 11)
    # The axis is centred on the critical scale, two octaves either side.
    sw = phase.sigma_ws(phase.PhaseConfig(activation="relu"))
    assert sw[4] == pytest.approx(math.sqrt(2), rel=1e-3) and sw[-1] / sw[0] == pytest.approx(16, rel=1e-3)


def test_cell_config_draws_weights_with_variance_sigma_w2_over_fan_in():
    pc = phase.PhaseConfig(width=64, sigma_b=0.5)
    cfg = phase.cell_config(pc, 1.7, 4)
    assert (cfg.schemes, cfg.scale, cfg.gain, cfg.depth, cfg.bias_init, cfg.bias_value) == (
        ("lecun_normal",),
        1.7,
        "1",
        4,
        "normal",
        0.5,
    )
    net = initial_network(cfg, "lecun_normal")
    for W in net.weights[1:-1]:  # 64 x 64 hidden matrices: 4096 draws, the std is within ~2 %
        assert W.std() == pytest.approx(1.7 / math.sqrt(64), rel=0.05)
    b = np.concatenate(net.biases[:-1])
    assert b.std() == pytest.approx(0.5, rel=0.1)
    assert phase.cell_config(phase.PhaseConfig(sigma_b=0.0), 1.0, 3).bias_init == "zeros"


def test_validate_phase_names_the_bad_field():
    with pytest.raises(ValueError, match="resolution"):
        phase.validate_phase(phase.PhaseConfig(resolution="huge"))
    with pytest.raises(ValueError, match="sigma_b"):
        phase.validate_phase(phase.PhaseConfig(sigma_b=-1.0))
    with pytest.raises(ValueError, match="activation"):
        phase.validate_phase(phase.PhaseConfig(activation="swish"))


# ------------------------------------------------------------------ the experiment agrees with the theory


def test_tanh_ordered_deep_cells_do_not_train_critical_cells_do():
    """tanh, sigma_b = 0: at sigma_w = 0.25 and 0.35 (xi = 0.36 and 0.48 layers) a depth-20 net is ~40-55 xi deep
    and cannot learn: its loss stays at its start (the guessing loss). At the critical scale it trains."""
    ordered = [phase.cell_config(TANH, sw, 20) for sw in (0.25, 0.3536)]
    critical = [phase.cell_config(TANH, 1.0, d) for d in (10, 20)]
    xi = phase.theory_curves("tanh", 0.0, np.array([0.25, 0.3536]))["xi"]
    assert (20 / xi > 40).all()
    for row in phase.run_cells(ordered):
        assert row["final_loss"] == pytest.approx(row["initial_loss"], rel=0.02)
        assert row["loss_vs_guess"] > 0.98
    rows = phase.run_cells(critical[:1]) + phase.run_cells(critical[1:])
    for row in rows:
        assert row["loss_vs_guess"] < 0.5 and row["final_acc"] > 0.85


def test_relu_chaotic_cells_diverge_critical_cells_train():
    pc = phase.PhaseConfig(activation="relu")
    above, at = phase.cell_config(pc, 2.83, 10), phase.cell_config(pc, 1.414, 10)
    r_above, r_at = phase.run_cells([above, at])
    assert r_above["diverged"] and math.isnan(r_above["final_loss"])
    assert not r_at["diverged"] and r_at["loss_vs_guess"] < 0.5


def test_run_cell_equals_its_row_in_a_stacked_batch():
    """A cell is a pure function of its config: trained alone or stacked with others, the same numbers."""
    pc = phase.PhaseConfig(steps=50)
    cfgs = [phase.cell_config(pc, sw, 6) for sw in (0.5, 1.0, 2.0)]
    stacked = phase.run_cells(cfgs)
    alone = phase.run_cell(cfgs[1])
    for k in ("initial_loss", "final_loss", "final_acc"):
        assert alone[k] == stacked[1][k]


# ------------------------------------------------------------------ batching, caching, progress (stub trainer)


def _stub_rows(configs):
    return [
        {
            "sigma_w": c.scale,
            "depth": c.depth,
            "initial_loss": 1.0,
            "final_loss": c.scale / c.depth,
            "guess_loss": 1.0,
            "loss_vs_guess": c.scale / c.depth,
            "loss_vs_start": c.scale / c.depth,
            "final_acc": 0.5,
            "diverged": False,
            "diverged_at": -1,
            "seconds": 0.0,
        }
        for c in configs
    ]


def test_grid_batches_by_depth_and_fine_grid_reuses_coarse_cells(monkeypatch):
    calls: list[list] = []

    def stub(configs, progress=None):
        calls.append(list(configs))
        return _stub_rows(configs)

    monkeypatch.setattr(phase, "run_cells", stub)
    cache = phase.CellCache()
    seen: list[float] = []
    coarse = phase.run_grid(phase.PhaseConfig(), progress=lambda f, m: seen.append(f), workers=1, cache=cache)
    assert len(coarse) == 54 and len(calls) == 6
    for batch in calls:  # one batch per depth, all 9 scales of it, differing only in the init
        assert len({c.depth for c in batch}) == 1 and len(batch) == 9
        assert len({c.replace(scale=1.0) for c in batch}) == 1
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    assert coarse["final_loss"].to_numpy() == pytest.approx((coarse["sigma_w"] / coarse["depth"]).to_numpy())
    calls.clear()
    fine = phase.run_grid(phase.PhaseConfig(resolution="fine"), workers=1, cache=cache)
    assert len(fine) == 187 and int(fine["cached"].sum()) == 54
    assert sum(len(b) for b in calls) == 187 - 54
    merged = fine.merge(coarse, on=["sigma_w", "depth"], suffixes=("", "_coarse"))
    assert len(merged) == 54 and merged["cached"].all()
    calls.clear()
    again = phase.run_grid(phase.PhaseConfig(), workers=1, cache=cache)
    assert calls == [] and again["cached"].all()


def test_a_broken_pool_falls_back_to_this_process(monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    class Broken:
        def submit(self, *args, **kwargs):
            raise BrokenProcessPool("a worker died")

    monkeypatch.setattr(phase, "_pool", lambda workers: Broken())
    monkeypatch.setattr(phase, "run_cells", lambda configs, progress=None: _stub_rows(configs))
    monkeypatch.setattr(phase, "POOL_MIN_WORK", 0.0)
    g = phase.run_grid(phase.PhaseConfig(), workers=2, cache=phase.CellCache())
    assert len(g) == 54 and not g["cached"].any()


def test_cell_cache_is_bounded_lru():
    cache = phase.CellCache(max_entries=2)
    a, b, c = (phase.cell_config(phase.PhaseConfig(), sw, 2) for sw in (0.5, 1.0, 2.0))
    cache.put(a, {"x": 1})
    cache.put(b, {"x": 2})
    assert cache.get(a) == {"x": 1}  # a is now the most recent
    cache.put(c, {"x": 3})
    assert len(cache) == 2 and cache.get(b) is None and cache.get(a) == {"x": 1}


def test_two_process_pool_gives_the_same_table():
    pc = phase.PhaseConfig(steps=50, width=8, activation="relu")
    one = phase.run_grid(pc, workers=1, cache=phase.CellCache())
    old = phase.POOL_MIN_WORK
    phase.POOL_MIN_WORK = 0.0  # force the pool even for this small grid
    try:
        two = phase.run_grid(pc, workers=2, cache=phase.CellCache())
    finally:
        phase.POOL_MIN_WORK = old
    cols = ["sigma_w", "depth", "initial_loss", "final_loss", "final_acc", "diverged"]
    pd.testing.assert_frame_equal(one[cols], two[cols])


# ------------------------------------------------------------------ the process pool: CPUs, memory, idle shutdown


@pytest.fixture
def cgroup(monkeypatch, tmp_path):
    """Fake cgroup files (none exist until written), an affinity mask of 8 CPUs and an idle machine."""
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr(cpus.os, "getloadavg", lambda: (0.0, 0.0, 0.0), raising=False)
    files = {
        "CGROUP_V2_CPU_MAX": tmp_path / "cpu.max",
        "CGROUP_V1_CPU_QUOTA": tmp_path / "cpu" / "cpu.cfs_quota_us",
        "CGROUP_V1_CPU_PERIOD": tmp_path / "cpu" / "cpu.cfs_period_us",
    }
    (tmp_path / "cpu").mkdir()
    for name, path in files.items():
        monkeypatch.setattr(cpus, name, path)

    def write(v2: str | None = None, v1: tuple[str, str] | None = None) -> int:
        if v2 is not None:
            files["CGROUP_V2_CPU_MAX"].write_text(v2 + "\n")
        if v1 is not None:
            files["CGROUP_V1_CPU_QUOTA"].write_text(v1[0] + "\n")
            files["CGROUP_V1_CPU_PERIOD"].write_text(v1[1] + "\n")
        return cpus.available_cpus()

    return write


def test_cgroup_v2_cpu_max_caps_the_cpus(cgroup):
    assert cgroup() == 8  # no cgroup files: the affinity mask
    assert cgroup(v2="max 100000") == 8
    assert cgroup(v2="200000 100000") == 2
    assert cgroup(v2="150000 100000") == 1  # a fractional quota rounds down
    assert cgroup(v2="50000 100000") == 1  # half a CPU is still one worker
    assert phase.default_workers() == 1
    assert cgroup(v2="garbage") == 8


def test_cgroup_v1_cfs_quota_caps_the_cpus(cgroup):
    assert cgroup(v1=("-1", "100000")) == 8  # -1: no quota
    assert cgroup(v1=("300000", "100000")) == 3
    assert phase.default_workers() == 2
    assert cgroup(v1=("100000", "100000")) == 1
    assert phase.default_workers() == 1
    assert cgroup(v1=("20000", "100000")) == 1
    assert cgroup(v1=("100000", "0")) == 8  # a broken period: no quota read
    assert cgroup(v2="max 100000", v1=("100000", "100000")) == 1  # v2 without a quota: v1's counts
    assert cgroup(v2="400000 100000", v1=("100000", "100000")) == 4  # v2's quota wins where there is one


def test_the_phase_cgroup_parsers_read_real_style_files(tmp_path):
    (tmp_path / "cpu.max").write_text("250000 100000\n")
    (tmp_path / "q").write_text("-1\n")
    (tmp_path / "p").write_text("100000\n")
    assert cpus._cgroup_v2_cpus(tmp_path / "cpu.max") == pytest.approx(2.5)
    assert cpus._cgroup_v1_cpus(tmp_path / "q", tmp_path / "p") is None
    (tmp_path / "q").write_text("150000\n")
    assert cpus._cgroup_v1_cpus(tmp_path / "q", tmp_path / "p") == pytest.approx(1.5)
    assert cpus._cgroup_v1_cpus(tmp_path / "missing", tmp_path / "p") is None


def test_a_busy_server_trains_grids_in_process(cgroup, monkeypatch):
    """The pool pays only with an idle core; on a busy server it only adds its processes' memory."""
    assert cgroup(v2="200000 100000") == 2
    assert phase.default_workers() == 2
    monkeypatch.setattr(cpus.os, "getloadavg", lambda: (1.6, 0.5, 0.2))
    assert phase.default_workers() == 1
    monkeypatch.setattr(cpus.os, "getloadavg", lambda: (3.0, 0.5, 0.2))
    assert cgroup(v2="400000 100000") == 4
    assert phase.default_workers() == 2  # one core is still idle


HEAVY = {"pandas", "sklearn", "scipy", "streamlit", "plotly", "pyarrow", "core.phase"}


def test_a_pool_worker_imports_only_what_a_cell_needs(monkeypatch, tmp_path):
    """After training a cell a worker holds no pandas, scikit-learn, Streamlit or plotly, and it never ran the
    server's main script (under `streamlit run`, Streamlit's console script, which imports all of those)."""
    marker = tmp_path / "main-ran"
    script = tmp_path / "fake_main.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\nimport pandas\n")
    fake_main = types.ModuleType("__main__")  # __spec__ None: run by path, like a console script
    fake_main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    pc = phase.PhaseConfig(steps=50, width=8)
    phase._drop_pool()
    try:
        pool = phase._pool(1)  # one worker: the probe runs where the cell ran
        row = pool.submit(phase.run_cells, [phase.cell_config(pc, 1.0, 2)]).result(timeout=120)[0]
        loaded = set(pool.submit(eval, "sorted(__import__('sys').modules)").result(timeout=60))
    finally:
        phase._drop_pool()
    assert row["depth"] == 2 and 0 < row["final_loss"] < row["initial_loss"]
    assert {"numpy", "core.train", "core.phase_worker"} <= loaded
    assert not HEAVY & loaded, HEAVY & loaded
    if sys.version_info[:2] in phase_worker._LAUNCH_VERSIONS:
        assert not marker.exists()
    assert phase.run_cells is phase_worker.run_cells  # core.phase re-exports the worker's functions
    assert phase.run_cells.__module__ == "core.phase_worker"  # what a pickled task makes the worker import


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_the_pool_shuts_down_after_it_was_idle_for_pool_idle_seconds(monkeypatch):
    monkeypatch.setattr(phase, "POOL_IDLE_SECONDS", 0.5)
    monkeypatch.setattr(phase, "POOL_MIN_WORK", 0.0)  # this small grid goes to the pool
    phase._drop_pool()
    pc = phase.PhaseConfig(steps=50, width=8, activation="relu")
    phase.run_grid(pc, workers=2, cache=phase.CellCache())
    pool = phase._POOL
    assert pool is not None and phase._POOL_TIMER is not None
    pids = list(pool._processes)
    assert 1 <= len(pids) <= 2 and all(_alive(p) for p in pids)
    # While a grid uses the pool the timer is stopped: it outlives the idle time.
    phase._pool_enter()
    try:
        assert phase._POOL_TIMER is None
        time.sleep(1.0)
        assert phase._POOL is pool and all(_alive(p) for p in pids)
    finally:
        phase._pool_exit()  # the last grid out starts the timer again
    assert phase._POOL_TIMER is not None
    deadline = time.monotonic() + 20
    while (phase._POOL is not None or any(_alive(p) for p in pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert phase._POOL is None and phase._POOL_TIMER is None
    assert not any(_alive(p) for p in pids)
    # The next grid starts a new pool, and its numbers are those of the in-process run.
    two = phase.run_grid(pc, workers=2, cache=phase.CellCache())
    assert phase._POOL is not None and phase._POOL is not pool
    one = phase.run_grid(pc, workers=1, cache=phase.CellCache())
    pd.testing.assert_frame_equal(one.drop(columns="seconds"), two.drop(columns="seconds"))
    phase._drop_pool()
    assert phase._POOL is None and phase._POOL_TIMER is None


# ------------------------------------------------------------------ figures


def _grid() -> pd.DataFrame:
    rows = []
    for d in (2, 6, 10):
        for sw in (0.5, 1.0, 2.0):
            div = sw == 2.0 and d == 10
            v = float("nan") if div else sw / d
            rows.append(
                {
                    "sigma_w": sw,
                    "depth": d,
                    "initial_loss": 0.7,
                    "final_loss": v * 0.7,
                    "guess_loss": 0.7,
                    "loss_vs_guess": v,
                    "loss_vs_start": v,
                    "final_acc": 1 - v / 2,
                    "diverged": div,
                    "diverged_at": 7 if div else -1,
                }
            )
    return pd.DataFrame(rows)


def _theory() -> pd.DataFrame:
    sw = np.geomspace(0.35, 2.9, 30)
    xi = np.where(sw < 1, -1 / np.log(sw**2), 3.0)
    return pd.DataFrame({"sigma_w": sw, "q_star": 0.0, "chi1": sw**2, "xi": xi, "trainable_depth": 6 * xi})


def test_phase_figure_plots_the_grid_numbers():
    g, th = _grid(), _theory()
    fig = fp.phase_figure(g, th, critical=1.0)
    heat, div, cells, _, line, crit = fig.data[:6]
    z = np.array(heat.z, dtype=float)
    expected = g.pivot(index="depth", columns="sigma_w", values="loss_vs_guess").to_numpy()
    assert np.allclose(z, expected, equal_nan=True)  # the diverged cell is NaN here ...
    assert (
        np.isnan(z[2, 2]) and np.array(div.z, dtype=float)[2, 2] == 1.0
    )  # ... and coloured in its own trace
    assert np.isnan(np.array(div.z, dtype=float)[0, 0])
    assert list(np.array(heat.x)) == pytest.approx(
        [math.sqrt(0.125), math.sqrt(0.5), math.sqrt(2), math.sqrt(8)]
    )
    assert list(np.array(heat.y)) == pytest.approx([0, 4, 8, 12])
    custom = np.array(cells.customdata, dtype=float)
    assert custom[:, :2].tolist()[:3] == [[0.5, 2], [1.0, 2], [2.0, 2]] and list(cells.text).count("✕") == 1
    # The theory line is 6 xi, clipped just above the plot where it leaves it.
    ty = np.array(line.y, dtype=float)
    inside = th[(th["sigma_w"] >= math.sqrt(0.125)) & (th["sigma_w"] <= math.sqrt(8))]
    td = inside["trainable_depth"].to_numpy()
    assert ty == pytest.approx(np.where(td > 12, 12 * 1.02, td))
    assert list(crit.x) == [1.0, 1.0]
    fig_acc = fp.phase_figure(g, th, critical=1.0, color_by="accuracy", selected=(1.0, 6))
    assert np.nanmax(np.array(fig_acc.data[0].z, dtype=float)) == pytest.approx(1 - (0.5 / 10) / 2)
    assert list(fig_acc.data[-1].x) == [1.0] and list(fig_acc.data[-1].y) == [6]


def test_theory_figure_plots_chi1_and_xi():
    th = _theory()
    fig = fp.theory_figure(th, critical=1.0, sigma_w=np.array([0.5, 1.0, 2.0]))
    assert np.array(fig.data[0].y) == pytest.approx(th["chi1"].to_numpy())
    assert np.array(fig.data[1].y) == pytest.approx(th["xi"].to_numpy())


def test_clicked_cell_reads_the_marker_trace():
    state = {"selection": {"points": [{"curve_number": 2, "x": 1.414, "y": 20, "customdata": {"0": 1.414}}]}}
    assert fp.clicked_cell(state) == (1.414, 20)
    assert fp.clicked_cell({"selection": {"points": []}}) is None
    assert fp.clicked_cell(None) is None
    # a point of another trace (the theory line) is not a cell
    assert fp.clicked_cell({"selection": {"points": [{"curve_number": 4, "x": 1.0, "y": 3.0}]}}) is None
    fig = fp.phase_figure(_grid(), _theory(), critical=1.0)
    assert fig.data[fp.CELL_TRACE].name == "cells"


def test_sentences_say_what_the_grid_shows():
    g, th = _grid(), _theory()
    at_cells = phase_theory_at(th, g)
    s = ap.grid_sentences(g, at_cells, critical=1.0)
    trained = int(((g["loss_vs_guess"] < phase.TRAINED_BELOW) & ~g["diverged"]).sum())
    assert s[0].startswith(f"**{trained} of 9 cells trained**") and "**1 diverged**" in s[0]
    assert "σ_w = 0.5" in s[1] and "has 10 hidden layers" in s[1]  # 0.5 / 10 = 0.05 < 0.5: trained
    agree = int(phase.agreement(g, at_cells).fillna(False).sum())
    assert f"**{agree} of 9 cells**" in s[-1]
    row = g.iloc[8]
    assert "diverged" in ap.cell_sentence(row) and "step 7" in ap.cell_sentence(row)


def test_agreement_makes_no_claim_where_q_star_is_infinite():
    g = _grid()
    th = phase_theory_at(_theory(), g)
    th.loc[th["sigma_w"] == 2.0, ["q_star", "trainable_depth"]] = [np.inf, np.nan]
    ok = phase.agreement(g, th)
    assert ok[g["sigma_w"] == 2.0].isna().all() and ok[g["sigma_w"] < 2.0].notna().all()
    s = ap.grid_sentences(g, th, critical=1.0)[-1]
    assert "of 6 cells** where the line is drawn (3 cells lie where q* is infinite)" in s
    words = ap.theory_sentences(th, 1.0, "relu", 0.0)
    assert "the signal explodes (q* is infinite)" in words[0] and words[1].startswith("From σ_w = 2 on")
    fig = fp.theory_figure(th, critical=1.0, sigma_w=np.array([0.5, 1.0, 2.0]))
    assert np.isnan(np.array(fig.data[1].y, dtype=float)[-1])  # no xi drawn where the signal explodes


def phase_theory_at(th: pd.DataFrame, g: pd.DataFrame) -> pd.DataFrame:
    sw = np.sort(g["sigma_w"].unique())
    with np.errstate(divide="ignore"):
        xi = np.where(sw < 1, -1 / np.log(sw**2), np.where(sw == 1, np.inf, 3.0))
    return pd.DataFrame({"sigma_w": sw, "q_star": 0.0, "chi1": sw**2, "xi": xi, "trainable_depth": 6 * xi})


def test_theory_sentence_names_the_critical_grid_scale_where_xi_is_unbounded():
    th = phase_theory_at(_theory(), _grid())  # sigma_w = 0.5, 1 (critical: xi = inf), 2 (xi = 3)
    (words,) = ap.theory_sentences(th, 1.0, "tanh", 0.0)
    assert "At σ_w = 1 ξ is unbounded: that grid scale is critical." in words
    assert "Elsewhere on the grid ξ is largest, 3.0 layers, at σ_w = 2." in words
