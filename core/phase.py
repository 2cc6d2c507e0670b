"""The initialization phase diagram: weight scale sigma_w x depth, each cell a short training run.

A cell is a pure function of its ExperimentConfig (so a process pool can run it: core.phase_worker, light enough
for the pool's processes); the cells of one depth are trained stacked through core.train.run_many, and a bounded
per-process cache lets a finer grid reuse its cells. The pool is shut down after POOL_IDLE_SECONDS without a grid.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import LIMITS, ExperimentConfig
from core.process import idle_core

# What a pool worker runs lives in core.phase_worker, which does not import pandas; re-exported from here.
from core.phase_worker import (  # noqa: F401 - cell_row, guess_loss and run_cell are re-exported
    cell_row,
    guess_loss,
    init_worker,
    run_cell,
    run_cells,
    worker_context,
)


def _code_version() -> str:
    digest = hashlib.sha1()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# Part of every cached cell's key: cells computed by other code of core/ are never reused.
CODE_VERSION = _code_version()

# Schoenholz et al. (2017, "Deep Information Propagation", figs. 5-6): networks train up to a depth of about
# 6 xi_c, six correlation depth scales; the page draws this multiple over the experiment.
TRAINABLE_MULTIPLE = 6.0

# A cell "trained" when its final training loss is below this fraction of the loss of guessing the class
# frequencies (the best a network can do whose output ignores its input).
TRAINED_BELOW = 0.5

# The finest grid; every coarser grid takes every k-th point of it, so its cells are reused exactly.
# sigma_w = centre * 2 ** ((i - 8) / 4), i = 0..16: two octaves either side of the critical scale.
_FINE_SIGMA_EXPONENTS = tuple((i - 8) / 4 for i in range(17))
_FINE_DEPTHS = (2, 4, 6, 8, 10, 14, 20, 27, 35, 42, 50)
RESOLUTIONS: dict[str, int] = {"coarse": 2, "fine": 1}  # stride into the finest grid
RESOLUTION_LABELS = {"coarse": "coarse: 9 scales × 6 depths", "fine": "fine: 17 scales × 11 depths"}

# Choices the page offers (the grid multiplies every cell's cost, so they are narrower than the other pages').
# Left out: sigmoid, whose critical scale is near sigma_w = 10 (its slope is at most 1/4), where core.theory's
# depth scale takes seconds per point (a 2-D integral inside a bisection), minutes for one curve; and GELU,
# whose q map has two stable fixed points (0 and infinity) with sigma_b = 0, so chi_1 jumps from 0.59 to 1.18 at
# sigma_w = 1.534 instead of crossing 1: no edge of chaos for the page to mark.
ACTIVATIONS = ("tanh", "relu", "leaky_relu", "linear")
SIGMA_B_OPTIONS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
WIDTH_OPTIONS = (8, 16, 32, 64)
STEPS_OPTIONS = (50, 100, 200, 300, 500)

# Multiply-adds of a whole grid (sum of ExperimentConfig.cost(diagnostics=False) over its cells). The default grid is 4.2e10, about
# 6 s of one core on the dev machine; the fine default grid 1.4e11. Beyond this, steps per cell are cut.
GRID_MAX_WORK = 1.5e11

CELL_CACHE_SIZE = 4096  # cells; one cell is a dozen floats, so the cache stays well under a megabyte


@dataclass(frozen=True)
class PhaseConfig:
    """Everything that shapes one phase diagram; each cell adds its sigma_w and depth."""

    activation: str = "tanh"
    sigma_b: float = 0.0  # bias std; 0 means zero biases
    width: int = 32
    dataset: str = "moons"
    steps: int = 200  # SGD steps per cell
    resolution: str = "coarse"
    seed: int = 0
    lr: float = 0.1
    batch_size: int = 64
    n_samples: int = 600
    noise: float = 0.1
    n_classes: int = 3  # spiral arms / blob centres


def grid_work(pc: PhaseConfig) -> float:
    """Multiply-adds of training every cell of the grid (the unit of GRID_MAX_WORK)."""
    return sum(cell_config(pc, 1.0, d).cost(diagnostics=False) for d in depths(pc)) * len(
        _FINE_SIGMA_EXPONENTS[:: RESOLUTIONS[pc.resolution]]
    )


def fit_phase(pc: PhaseConfig) -> tuple[PhaseConfig, list[str]]:
    """Cut the steps per cell (to one of STEPS_OPTIONS) until the grid fits GRID_MAX_WORK; one sentence per cut."""
    if pc.resolution not in RESOLUTIONS or grid_work(pc) <= GRID_MAX_WORK:
        return pc, []
    fits = [
        s
        for s in sorted(STEPS_OPTIONS, reverse=True)
        if s < pc.steps and grid_work(replace(pc, steps=s)) <= GRID_MAX_WORK
    ]
    new = replace(pc, steps=fits[0] if fits else min(STEPS_OPTIONS))
    notes = [
        f"steps per cell cut from {pc.steps} to {new.steps}, so this grid of {pc.resolution} resolution "
        f"and width {pc.width} trains in seconds rather than minutes"
    ]
    narrower = [w for w in sorted(WIDTH_OPTIONS, reverse=True) if w < new.width]
    while grid_work(new) > GRID_MAX_WORK and narrower:  # the fewest steps are still too many: narrow it
        new = replace(new, width=narrower.pop(0))
    if new.width != pc.width:
        notes.append(
            f"width cut from {pc.width} to {new.width} units, because even {new.steps} steps were too many"
        )
    return new, notes


def validate_phase(pc: PhaseConfig) -> PhaseConfig:
    """Return `pc` if every field is allowed, else raise ValueError naming the field and its range."""
    if pc.activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(ACTIVATIONS)} on the phase diagram; got {pc.activation!r}"
        )
    if pc.resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}; got {pc.resolution!r}")
    lo, hi = LIMITS["bias_value"]
    if not (math.isfinite(pc.sigma_b) and 0.0 <= pc.sigma_b <= hi):
        raise ValueError(f"sigma_b must be a finite number in [0, {hi:g}], got {pc.sigma_b!r}")
    from core.config import validate

    # The deepest, widest cell must itself be a valid experiment (this checks activation, data set,
    # width, steps, seed and the work budget in one place).
    validate(cell_config(pc, 1.0, max(depths(pc))))
    if grid_work(pc) > GRID_MAX_WORK:
        raise ValueError(
            f"this grid is too large ({grid_work(pc):.2g} multiply-adds, the limit is {GRID_MAX_WORK:.2g}): "
            "use fewer steps per cell, a smaller width or the coarse grid"
        )
    return pc


def critical_sigma_w(activation: str, sigma_b: float) -> float:
    """The weight scale sigma_w at which chi_1 = 1 (the edge of chaos), from core.theory; NaN if none."""
    from core.theory import critical_sigma_w2

    try:
        s2 = float(critical_sigma_w2(sigma_b**2, activation))
    except (ValueError, ArithmeticError):
        return float("nan")
    return math.sqrt(s2) if math.isfinite(s2) and s2 > 0 else float("nan")


def grid_centre(activation: str, sigma_b: float) -> float:
    """The centre of the sigma_w axis: the critical scale to 4 significant digits (1 if there is none)."""
    c = critical_sigma_w(activation, sigma_b)
    if not math.isfinite(c) or c <= 0:
        return 1.0
    return float(f"{c:.4g}")


def sigma_ws(pc: PhaseConfig) -> list[float]:
    """The grid's weight scales, smallest first (4 significant digits, so coarse and fine grids share values)."""
    centre = grid_centre(pc.activation, pc.sigma_b)
    fine = [float(f"{centre * 2.0**e:.4g}") for e in _FINE_SIGMA_EXPONENTS]
    return fine[:: RESOLUTIONS[pc.resolution]]


def depths(pc: PhaseConfig) -> list[int]:
    """The grid's depths (hidden layers), shallowest first."""
    return list(_FINE_DEPTHS[:: RESOLUTIONS[pc.resolution]])


def cell_config(pc: PhaseConfig, sigma_w: float, depth: int) -> ExperimentConfig:
    """The exact experiment of one cell: weights N(0, sigma_w^2 / fan_in), biases N(0, sigma_b^2).

    LeCun normal with gain 1 has std 1 / sqrt(fan_in); the scale multiplier makes it sigma_w / sqrt(fan_in).
    Zero sigma_b is written as zero biases, so the linked Training page says "zeros" rather than "N(0, 0)".
    """
    steps = int(pc.steps)
    return ExperimentConfig(
        dataset=pc.dataset,
        n_samples=pc.n_samples,
        noise=pc.noise,
        n_classes=int(pc.n_classes),
        depth=int(depth),
        width=int(pc.width),
        activation=pc.activation,
        schemes=("lecun_normal",),
        scale=float(sigma_w),
        gain="1",
        bias_init="normal" if pc.sigma_b > 0 else "zeros",
        bias_value=float(pc.sigma_b),
        optimizer="sgd",
        lr=float(pc.lr),
        batch_size=int(pc.batch_size),
        steps=steps,
        seed=int(pc.seed),
        record_every=max(steps, 1),  # evaluate at step 0 and at the end only: the cell needs nothing else
        n_checkpoints=1,
    )


class CellCache:
    """A bounded, thread-safe LRU map from a cell's config to its row, shared by every session of the process."""

    def __init__(self, max_entries: int = CELL_CACHE_SIZE) -> None:
        self.max_entries = max_entries
        self._rows: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(config: ExperimentConfig) -> tuple:
        return (CODE_VERSION, config)

    def get(self, config: ExperimentConfig) -> dict | None:
        with self._lock:
            row = self._rows.get(self.key(config))
            if row is not None:
                self._rows.move_to_end(self.key(config))
            return None if row is None else dict(row)

    def put(self, config: ExperimentConfig, row: dict) -> None:
        with self._lock:
            self._rows[self.key(config)] = dict(row)
            self._rows.move_to_end(self.key(config))
            while len(self._rows) > self.max_entries:
                self._rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


CELL_CACHE = CellCache()


def default_workers() -> int:
    """Worker processes for a grid: 2 where a second CPU is idle (core.process.idle_core), else 1 (in this process).

    On a busy server (a class at work) the cores are taken, and a pool would only add its processes' memory
    (100-230 MB in the load test), which is what pushed a 30-session server over 700 MB (docs/classroom.md).
    """
    return 2 if idle_core() else 1


# The pool is shut down when no grid has used it for this long, so its processes' memory goes back once a
# class has drawn its grids; the next large grid starts a new one (0.2 s here, workers importing numpy included).
POOL_IDLE_SECONDS = 120.0

_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()  # guards _POOL, _POOL_USERS and _POOL_TIMER
_POOL_USERS = 0  # grids using the pool right now
_POOL_TIMER: threading.Timer | None = None  # shuts the pool down after POOL_IDLE_SECONDS without a grid


def _pool(workers: int) -> Executor:
    """The process pool, kept between grids (starting one costs more than a small grid) until it is idle.

    Its workers (core.phase_worker.worker_context) import only what a cell needs, not this module or pandas.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers != workers:  # noqa: SLF001 - the only way to read it
            if _POOL is not None:
                _POOL.shutdown(wait=False, cancel_futures=True)
            _POOL = ProcessPoolExecutor(workers, mp_context=worker_context(), initializer=init_worker)
        return _POOL


def _pool_enter() -> None:
    """A grid starts using the pool: the idle timer stops."""
    global _POOL_USERS, _POOL_TIMER
    with _POOL_LOCK:
        _POOL_USERS += 1
        if _POOL_TIMER is not None:
            _POOL_TIMER.cancel()
            _POOL_TIMER = None


def _pool_exit() -> None:
    """A grid is done with the pool: the last one out starts the idle timer."""
    global _POOL_USERS, _POOL_TIMER
    with _POOL_LOCK:
        _POOL_USERS = max(0, _POOL_USERS - 1)
        if _POOL_USERS == 0 and _POOL is not None:
            if _POOL_TIMER is not None:
                _POOL_TIMER.cancel()
            timer = threading.Timer(POOL_IDLE_SECONDS, lambda: _shut_idle_pool(timer))
            timer.daemon = True
            timer.name = "phase-pool-idle"
            _POOL_TIMER = timer
            timer.start()


def _shut_idle_pool(timer: threading.Timer) -> None:
    """Shut the pool down if `timer` is still the current idle timer and no grid uses the pool."""
    global _POOL, _POOL_TIMER
    with _POOL_LOCK:
        if _POOL_TIMER is not timer or _POOL_USERS:  # a grid started (and maybe ended) since: not idle
            return
        pool, _POOL, _POOL_TIMER = _POOL, None, None
    if pool is not None:
        pool.shutdown(wait=True)  # outside the lock: a new grid may start a new pool meanwhile


def _drop_pool() -> None:
    global _POOL, _POOL_TIMER
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None
        if _POOL_TIMER is not None:
            _POOL_TIMER.cancel()
            _POOL_TIMER = None


def _batch_cost(configs: Sequence[ExperimentConfig]) -> float:
    return sum(c.cost(diagnostics=False) for c in configs)


# Below this many multiply-adds (about 0.7 s of one core) a grid runs in-process: the pool would not pay.
POOL_MIN_WORK = 5e9


def run_grid(
    pc: PhaseConfig,
    progress: Callable[[float, str], None] | None = None,
    workers: int | None = None,
    cache: CellCache | None = None,
) -> pd.DataFrame:
    """Train every cell of the grid not already cached and return one row per cell.

    Columns: sigma_w, depth, initial_loss, final_loss, guess_loss, loss_vs_guess, loss_vs_start, final_acc,
    diverged, diverged_at, seconds, cached. Rows are sorted by depth, then sigma_w.
    `progress(fraction, text)` is called after each batch; `workers` defaults to default_workers().
    """
    validate_phase(pc)
    progress = _throttled(progress)
    cache = CELL_CACHE if cache is None else cache
    workers = default_workers() if workers is None else max(1, int(workers))
    cells = [(sw, d) for d in depths(pc) for sw in sigma_ws(pc)]
    configs = {cell: cell_config(pc, *cell) for cell in cells}
    rows: dict[tuple[float, int], dict] = {}
    for cell, cfg in configs.items():
        row = cache.get(cfg)
        if row is not None:
            rows[cell] = {**row, "cached": True}
    missing: dict[int, list[tuple[float, int]]] = {}
    for cell in cells:
        if cell not in rows:
            missing.setdefault(cell[1], []).append(cell)
    # Deepest (costliest) batches first, so two workers finish together.
    batches = sorted(missing.values(), key=lambda b: -_batch_cost([configs[c] for c in b]))
    total = sum(_batch_cost([configs[c] for c in b]) for b in batches)
    n_new = sum(len(b) for b in batches)
    done, trained = 0.0, 0

    def collect(batch: list[tuple[float, int]], result: list[dict]) -> None:
        nonlocal done, trained
        for cell, row in zip(batch, result):
            cache.put(configs[cell], row)
            rows[cell] = {**row, "cached": False}
        done += _batch_cost([configs[c] for c in batch])
        trained += len(batch)
        if progress is not None:
            progress(done / total, f"trained {trained} of {n_new} cells")

    if batches and workers > 1 and total >= POOL_MIN_WORK:
        _pool_enter()
        try:
            pool = _pool(workers)
            futures = {pool.submit(run_cells, [configs[c] for c in b]): b for b in batches}
            for fut, b in futures.items():
                # Cache each batch as it lands, even if this caller is interrupted (a Streamlit rerun mid-grid).
                fut.add_done_callback(lambda f, b=b: _cache_batch(cache, [configs[c] for c in b], f))
            for fut in as_completed(futures):
                collect(futures[fut], fut.result())
        except (BrokenProcessPool, OSError):
            _drop_pool()  # a worker died (out of memory, killed): finish in this process
        finally:
            _pool_exit()
        batches = [b for b in batches if b[0] not in rows]
    for b in batches:
        cost = _batch_cost([configs[c] for c in b])

        def within(f: float, _msg: str, cost: float = cost) -> None:
            if progress is not None and f < 1.0:
                progress((done + f * cost) / total, f"trained {trained} of {n_new} cells")

        collect(b, run_cells([configs[c] for c in b], progress=within))
    table = pd.DataFrame([rows[cell] for cell in cells])
    return table.sort_values(["depth", "sigma_w"], ignore_index=True)


def _throttled(progress: Callable[[float, str], None] | None) -> Callable[[float, str], None] | None:
    """Forward a progress report only when it moved by a percent or its message changed (fewer UI updates)."""
    if progress is None:
        return None
    last = [-1.0, ""]

    def report(fraction: float, message: str) -> None:
        if fraction - last[0] >= 0.01 or message != last[1] or fraction >= 1.0:
            last[:] = [fraction, message]
            progress(fraction, message)

    return report


def _cache_batch(cache: CellCache, configs: list[ExperimentConfig], fut) -> None:
    if not fut.cancelled() and fut.exception() is None:
        for cfg, row in zip(configs, fut.result()):
            cache.put(cfg, row)


def theory_curves(activation: str, sigma_b: float, sigma_w: np.ndarray) -> pd.DataFrame:
    """q*, chi_1, the depth scale xi and the trainable depth TRAINABLE_MULTIPLE * xi at each sigma_w (core.theory).

    xi is inf at the critical scale. Where q* is infinite (ReLU-like activations above the critical scale) the
    signal itself grows by chi_1 per layer and xi says nothing about trainability: trainable_depth is NaN there.
    """
    from core.theory import chi1, depth_scale, fixed_point

    sb2 = float(sigma_b) ** 2
    rows = []
    for sw in np.asarray(sigma_w, dtype=float):
        s2 = float(sw) ** 2
        q = _safe(lambda: fixed_point(s2, sb2, activation))
        xi = _safe(lambda: depth_scale(s2, sb2, activation))
        rows.append(
            {
                "sigma_w": float(sw),
                "q_star": q,
                "chi1": _safe(lambda: chi1(s2, sb2, activation)),
                "xi": xi,
                "trainable_depth": TRAINABLE_MULTIPLE * xi if not math.isinf(q) else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["sigma_w", "q_star", "chi1", "xi", "trainable_depth"])


def _safe(f: Callable[[], float]) -> float:
    try:
        v = float(f())
    except (ValueError, ArithmeticError, FloatingPointError):
        return float("nan")
    return v


def agreement(grid: pd.DataFrame, theory_at_cells: pd.DataFrame) -> pd.Series:
    """Per cell: does 'trained' (loss below TRAINED_BELOW x guess) match 'depth <= trainable depth'?

    Cells where the theory draws no line (trainable_depth NaN: q* infinite) are NA: the theory makes no claim.
    """
    merged = grid.merge(theory_at_cells[["sigma_w", "trainable_depth"]], on="sigma_w", how="left")
    trained = (merged["loss_vs_guess"] < TRAINED_BELOW) & ~merged["diverged"]
    predicted = merged["depth"] <= merged["trainable_depth"]
    return (trained == predicted).astype("boolean").mask(merged["trainable_depth"].isna())


def nearest(values: Sequence[float], target: float) -> float:
    """The value closest to `target` on a log scale (the first value if target is not a positive number)."""
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target > 0):
        return values[0]
    return min(values, key=lambda v: abs(math.log(v / target)))


def theory_axis(
    sigma_w: Sequence[float], critical: float, n_ordered: int = 33, n_chaotic: int = 13
) -> tuple[float, ...]:
    """sigma_w values for the theory curves over the grid's range (half a cell beyond each end).

    Dense below the critical scale, sparser above it (xi there needs a 2-D integral per bisection step of
    core.theory's correlation fixed point, ~0.1-1 s a point), and the critical scale itself.
    """
    lo, hi = min(sigma_w), max(sigma_w)
    step = (hi / lo) ** (0.5 / max(len(sigma_w) - 1, 1))
    a, b = lo / step, hi * step
    dense = np.geomspace(a, b, n_ordered)
    xs = set(dense.round(6).tolist())
    if math.isfinite(critical) and a < critical < b:
        xs = {x for x in xs if x < critical}
        xs |= set(np.geomspace(critical, b, n_chaotic).round(6).tolist())
        xs.add(round(critical, 6))
    return tuple(sorted(xs))
