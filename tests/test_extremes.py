"""Extreme but valid settings: every scheme x activation x optimizer trains, divergence is a sentence, numpy
floating-point warnings never leak, and every slider at its maximum finishes within the work budget.

The all-maximum page runs take minutes on a busy 2-core machine: `INITLAB_SLOW=1 python -m pytest -m slow
tests/test_extremes.py -s` prints the time of each.
"""

from __future__ import annotations

import itertools
import os
import time
import warnings

import numpy as np
import pytest

import core.phase
import core.train
from core import config as C
from core.config import ExperimentConfig
from core.initializers import SCHEMES
from tests.apptest_util import open_page

SLOW = pytest.mark.skipif(not os.environ.get("INITLAB_SLOW"), reason="minutes: set INITLAB_SLOW=1 to run")
SMALL = dict(n_samples=100, depth=2, width=8, batch_size=16, steps=20, record_every=5, n_checkpoints=2)
# Two regimes per combination: ordinary, and as hostile as the limits allow (huge weights, the largest
# learning rate, large constant biases, float32) so that divergence, overflow and saturation all happen.
REGIMES = {
    "ordinary": dict(lr=0.1),
    "hostile": dict(lr=10.0, scale=100.0, weight_std=10.0, weight_const=10.0, weight_bound=10.0,
                    bias_init="constant", bias_value=10.0, dtype="float32"),
}  # fmt: skip


def chunks(seq: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(seq[i : i + n]) for i in range(0, len(seq), n)]


@pytest.fixture
def strict_numpy():
    """Any numpy floating-point warning outside the core's own errstate becomes an error."""
    old = np.seterr(all="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    np.seterr(**old)


def check_record(r, where: str) -> None:
    if r.diverged_at is None:
        assert r.divergence == "", where
        assert np.isfinite(r.loss).all() and np.isfinite(r.train_loss).all(), where
    else:
        # a result in words, not a crash: a sentence saying what became non-finite and when
        assert r.divergence.endswith(".") and len(r.divergence.split()) >= 4, (where, r.divergence)
        assert 0 <= r.diverged_at <= r.config.steps, where
        assert np.isfinite(r.loss[: r.diverged_at]).all(), where
    n_hidden = len(r.sizes) - 2
    assert r.layer_stats["act_std"].shape == (len(r.stat_steps), n_hidden + 1), where


@pytest.mark.parametrize("regime", list(REGIMES))
@pytest.mark.parametrize("optimizer", C.OPTIMIZERS)
@pytest.mark.parametrize("activation", C.ACTIVATIONS)
def test_every_scheme_activation_optimizer_trains_without_exception_or_warning(
    activation, optimizer, regime, strict_numpy
):
    diverged = 0
    for schemes in chunks(list(SCHEMES), int(C.LIMITS["n_schemes"][1])):
        config = ExperimentConfig(
            schemes=schemes, activation=activation, optimizer=optimizer, **SMALL, **REGIMES[regime]
        )
        records = core.train.run_experiment(config)
        assert list(records) == list(schemes)
        for s, r in records.items():
            check_record(r, f"{s}/{activation}/{optimizer}/{regime}")
            diverged += r.diverged_at is not None
    if regime == "ordinary" and optimizer != "adam":
        assert diverged == 0  # lr 0.1 on 8 units: nothing should blow up


def test_the_hostile_regime_really_diverges_somewhere(strict_numpy):
    """Otherwise the divergence branch of the test above would never run."""
    config = ExperimentConfig(
        schemes=("he_normal", "normal"), activation="relu", **SMALL, **REGIMES["hostile"]
    )
    records = core.train.run_experiment(config)
    assert any(r.diverged_at is not None for r in records.values())


def test_grid_cells_and_theory_raise_no_numpy_warning(strict_numpy):
    """The phase diagram's cells and mean-field curves at extreme scales, bias and activations."""
    for act in C.ACTIVATIONS:
        pc = core.phase.PhaseConfig(activation=act, sigma_b=1.0, width=8, steps=50)
        sws = np.array([1e-3, 0.5, core.phase.grid_centre(act, 1.0), 8.0, 1e3])
        table = core.phase.theory_curves(act, 1.0, sws)
        assert len(table) == len(sws)
        rows = core.phase.run_cells([core.phase.cell_config(pc, sw, 6) for sw in (0.01, 1.0, 100.0)])
        assert len(rows) == 3 and all(isinstance(r["diverged"], bool) for r in rows)


# --------------------------------------------------------------------------- pages: warnings and maxima


def numpy_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in record
            if issubclass(w.category, RuntimeWarning)]  # fmt: skip


DIVERGING = {
    "training": {"init": ["zeros", "he_normal", "normal"], "sigma": "10", "act": "relu", "lr": "10",
                 "scale": "100", "steps": "100", "depth": "4"},
    "depth": {"init": "normal", "sigma": "10", "act": "relu", "depth": "20", "lr": "10", "steps": "100"},
    "symmetry": {"init": "constant", "c": "10", "lr": "10", "act": "sigmoid", "opt": "adam", "steps": "100"},
}  # fmt: skip


@pytest.mark.parametrize("page", list(DIVERGING))
def test_a_diverging_run_is_reported_in_words_and_leaks_no_numpy_warning(page):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        at = open_page(page, DIVERGING[page], timeout=240)
    assert not at.exception, [e.value for e in at.exception]
    assert numpy_warnings(record) == []
    if page == "symmetry":
        return  # at most 3 layers of 64 units: even these settings stay finite (seen: no divergence in 100 steps)
    shown = " ".join(w.value for w in at.warning) + " ".join(m.value for m in at.markdown)
    assert any(word in shown for word in ("diverged", "non-finite", "NaN", "overflow", "inf")), shown[:500]


# Every slider at its maximum (and every choice at its costliest) at once, per page. "max-lr" is literally
# every slider at the end; with lr 10 a run may diverge early and stop, so "max-work" keeps lr moderate to
# measure the longest a student can make a page compute (on 2-D data, which adds the decision boundary).
MAXED = {
    "symmetry": {"init": "constant", "c": "10", "bias": "normal", "bval": "10", "act": "tanh", "depth": "3",
                 "width": "64", "opt": "adam", "lr": "10", "steps": "1000", "seed": "2147483647"},
    "depth": {"init": "normal", "sigma": "10", "scale": "10", "gain": "auto", "depth": "50", "width": "256",
              "act": "gelu", "bias": "normal", "bval": "10", "data": "digits", "n": "2000", "dseed": "2147483647",
              "seed": "2147483647", "steps": "1000", "opt": "adam", "lr": "10", "batch": "512"},
    "training": {"init": ["zeros", "normal", "uniform", "he_normal", "xavier_normal", "lsuv"], "sigma": "10",
                 "a": "10", "depth": "50", "width": "256", "act": "gelu", "scale": "100", "bias": "normal",
                 "bval": "10", "opt": "adam", "lr": "10", "batch": "512", "steps": "3000", "data": "digits",
                 "n": "2000", "seed": "2147483647", "dseed": "2147483647", "gain": "auto"},
    "phase": {"act": "tanh", "sb": "1", "data": "spiral", "width": "64", "cellsteps": "500", "res": "fine",
              "seed": "2147483647"},
}  # fmt: skip
# The most a page may take: MAX_WORK is "about 15-20 s" on this machine (core/config.py); rendering and
# a busy machine (other test runs) get a margin on top.
PAGE_LIMIT_S = float(os.environ.get("INITLAB_PAGE_LIMIT_S", "60"))


class Timer:
    """Spy on the training entry points: total work asked for, time in training, progress calls."""

    def __init__(self) -> None:
        self.work = 0.0
        self.seconds = 0.0
        self.progress: list[float] = []

    def wrap(self, real, kind: str):
        def wrapper(arg, progress=None, **kw):
            if kind == "run_many":
                self.work += sum(c.work for c in arg)
            else:
                self.work += sum(
                    core.phase.cell_config(arg, s, d).work
                    for d in core.phase.depths(arg)
                    for s in core.phase.sigma_ws(arg)
                )

            def spy_progress(f, msg=""):
                self.progress.append(f)
                if progress is not None:
                    progress(f, msg)

            t = time.perf_counter()
            try:
                return real(arg, progress=spy_progress, **kw)
            finally:
                self.seconds += time.perf_counter() - t

        return wrapper


# Sane starting values for the max-work variant: every size and step slider at its end, nothing overflowing.
SANE = {"sigma": "0.01", "scale": "1", "c": "0.5", "a": "0.05", "bval": "0.1", "lr": "0.01"}


@SLOW
@pytest.mark.slow
@pytest.mark.parametrize(
    "page, variant",
    [
        ("symmetry", "max-lr"),
        ("symmetry", "max-work"),
        ("depth", "max-lr"),
        ("depth", "max-work"),
        ("training", "max-lr"),
        ("training", "max-work"),
        ("phase", "max-lr"),
    ],
)
def test_every_slider_at_its_maximum_finishes_within_the_limit(page, variant, monkeypatch):
    """max-lr: literally every slider at its end. max-work: every size and step slider at its end with a sane
    start (huge weights overflow and may stop a run early), on 2-D data, which adds the decision boundary."""
    query = dict(MAXED[page])
    if variant == "max-work":
        query.update({k: v for k, v in SANE.items() if k in query})
        if query.get("data") == "digits":
            query.update(data="spiral", k="6", noise="1")
    timer = Timer()
    monkeypatch.setattr(core.train, "run_many", timer.wrap(core.train.run_many, "run_many"))
    monkeypatch.setattr(core.phase, "run_grid", timer.wrap(core.phase.run_grid, "run_grid"))
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        at = open_page(page, query, timeout=1800)
    seconds = time.perf_counter() - start
    print(
        f"\n{page} {variant}: {seconds:.1f} s page, {timer.seconds:.1f} s training, work {timer.work:.3g} "
        f"({timer.work / C.MAX_WORK:.1f} x MAX_WORK), load average {load:.1f}->{os.getloadavg()[0]:.1f}"
    )
    assert not at.exception, [e.value for e in at.exception]
    assert numpy_warnings(record) == []
    assert not [w.value for w in at.warning if w.value.startswith("Some settings")]  # every value was valid
    refused = [e.value for e in at.error]
    if refused:  # too large even at 0 steps: refused in plain words, nothing trained
        print(f"  refused: {refused[0]}")
        assert "too large" in refused[0] and timer.work == 0
        return
    assert timer.progress and timer.progress[-1] == pytest.approx(1.0)  # a progress bar had something to show
    budget = core.phase.GRID_MAX_WORK if page == "phase" else C.MAX_WORK
    assert timer.work <= budget * 1.001, f"{timer.work / C.MAX_WORK:.1f} x MAX_WORK"
    assert seconds < PAGE_LIMIT_S


def test_the_maxed_queries_are_every_slider_at_its_end():
    """MAXED really is the end of every range (so the timing above is the worst case)."""
    from ui import controls

    lo, hi = C.LIMITS["depth"]
    assert MAXED["depth"]["depth"] == str(int(hi)) and MAXED["training"]["depth"] == str(int(hi))
    assert MAXED["training"]["width"] == str(controls.WIDTH_GRID[-1])
    assert MAXED["training"]["batch"] == str(controls.BATCH_GRID[-1])
    assert MAXED["training"]["steps"] == str(int(C.LIMITS["steps"][1]))
    assert len(MAXED["training"]["init"]) == C.LIMITS["n_schemes"][1]
    assert MAXED["phase"]["width"] == str(core.phase.WIDTH_OPTIONS[-1])
    assert MAXED["phase"]["cellsteps"] == str(core.phase.STEPS_OPTIONS[-1])
    assert float(MAXED["phase"]["sb"]) == core.phase.SIGMA_B_OPTIONS[-1]
    big = itertools.product([MAXED["training"]], ["lr"])
    assert all(float(q[k]) == controls.LR_GRID[-1] for q, k in big)


# --------------------------------------------------------------------------- known gaps (others' files)


def evaluation_macs(c: ExperimentConfig) -> float:
    """Forward multiply-adds core.train spends besides the training steps: the whole split at every recorded
    step, and the 100 x 100 decision-boundary grid at the end (2-D data sets)."""
    s = c.sizes
    per_example = sum(a * b for a, b in zip(s[:-1], s[1:]))
    n_evals = c.steps // c.record_every + 2
    grid = C.BOUNDARY_GRID**2 if s[0] == 2 else 0
    return len(c.schemes) * per_example * (c.n_samples * n_evals + grid)


def test_the_work_budget_counts_evaluation_and_the_decision_boundary():
    """At 50 x 256 these forward passes are ~9 x the old budget: a run cut to 1 step took 86 s (load 11)."""
    maxed = ExperimentConfig(
        schemes=("zeros", "normal", "uniform", "he_normal", "xavier_normal", "lsuv"), depth=50, width=256,
        batch_size=512, steps=1, n_samples=2000, dataset="spiral", n_classes=6, record_every=30,
    )  # fmt: skip
    s = maxed.sizes
    training = 3 * maxed.batch_size * len(maxed.schemes) * sum(a * b for a, b in zip(s[:-1], s[1:]))
    assert maxed.work >= training + evaluation_macs(maxed)
    assert maxed.work > C.MAX_WORK  # so validate refuses it (the page says so in words)


def test_every_phase_grid_the_page_can_ask_for_is_cut_to_the_grid_budget():
    """The largest grid (fine x width 64 x 500 steps) was 46 x MAX_WORK before core.phase.fit_phase."""
    assert core.phase.GRID_MAX_WORK <= 5 * C.MAX_WORK
    for width, steps, res in itertools.product(
        core.phase.WIDTH_OPTIONS, core.phase.STEPS_OPTIONS, core.phase.RESOLUTIONS
    ):
        pc = core.phase.PhaseConfig(sigma_b=1.0, width=width, steps=steps, resolution=res)
        fitted, notes = core.phase.fit_phase(pc)
        core.phase.validate_phase(fitted)
        assert core.phase.grid_work(fitted) <= core.phase.GRID_MAX_WORK
        assert bool(notes) == (fitted != pc)


def test_ranks_of_overflowed_activations_are_recorded_not_raised(strict_numpy):
    from core.diagnostics import numerical_ranks

    H = np.random.default_rng(0).standard_normal((3, 64, 32))
    H[0, 0, 0] = np.inf
    H[1, 0, 0] = 1e200  # finite, but its Gram matrix would overflow
    ranks = numerical_ranks(H)  # used to raise LinAlgError("Eigenvalues did not converge")
    assert np.isnan(ranks[0])  # no rank for a matrix with inf in it
    assert ranks[1] == np.linalg.matrix_rank(H[1]) == 1  # one entry dwarfs the rest
    assert ranks[2] == 32
    assert numerical_ranks(H[2] * 1e-300)[()] == 32  # nor does the scale change it


@SLOW
@pytest.mark.slow
def test_depth_50_width_256_gelu_overflow_trains_without_exception(strict_numpy):
    config = ExperimentConfig(
        schemes=("normal",), weight_std=10.0, scale=10.0, gain="auto", depth=50, width=256, activation="gelu",
        bias_init="normal", bias_value=10.0, optimizer="adam", lr=10.0, steps=5, batch_size=512,
        n_samples=2000, dataset="digits",
    )  # fmt: skip
    (record,) = core.train.run_experiment(config).values()
    check_record(record, "depth-50 gelu overflow")
