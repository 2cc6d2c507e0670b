"""What a process of the Phase page's pool runs: the cells of one depth trained stacked, one row per cell.

Kept apart from core.phase (which imports pandas for its tables) so that a worker process imports only what a
cell needs: numpy, threadpoolctl, core.config, core.records, core.train and core.data (scikit-learn only if
the cell trains on digits), never pandas, streamlit or plotly. core.phase re-exports these names.

The pool's process class is here too: the process object is pickled into the worker, which imports the module
that defines its class. That class also keeps the worker from running the server's main script first, which
multiprocessing does by default: under `streamlit run` the main script is Streamlit's console script, whose
`from streamlit.web.cli import main` would load Streamlit, pandas and plotly into every worker (~100 MB).
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from multiprocessing import context, reduction, spawn, util

import numpy as np

from core.config import ExperimentConfig


def guess_loss(config: ExperimentConfig) -> float:
    """Cross-entropy of predicting the train split's class frequencies: what a net that ignores its input gets."""
    from core.data import load

    y = load(config.dataset, config.n_samples, config.noise, config.n_classes, config.data_seed).y_train
    p = np.bincount(y) / len(y)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def cell_row(record, guess: float) -> dict:
    """One row of the grid table from a cell's RunRecord."""
    cfg = record.config
    initial = float(record.train_loss[0])
    final = float(record.train_loss[-1])
    diverged = record.diverged_at is not None or not math.isfinite(final)
    return {
        "sigma_w": float(cfg.scale),
        "depth": int(cfg.depth),
        "initial_loss": initial,
        "final_loss": final if not diverged else float("nan"),
        "guess_loss": guess,
        "loss_vs_guess": final / guess if not diverged else float("nan"),
        "loss_vs_start": final / initial if not diverged and initial > 0 else float("nan"),
        "final_acc": float(record.train_acc[-1]) if not diverged else float("nan"),
        "diverged": bool(diverged),
        "diverged_at": -1 if record.diverged_at is None else int(record.diverged_at),
        "seconds": float(record.seconds),
    }


def run_cells(
    configs: Sequence[ExperimentConfig], progress: Callable[[float, str], None] | None = None
) -> list[dict]:
    """Train cells that differ only in their init (one stacked run through core.train.run_many); one row each.

    A pure function of its configs, importable at module level: a process pool can run it.
    `progress(fraction, message)` is passed to run_many (in-process runs only).
    """
    from core.train import run_many

    records = run_many(list(configs), progress=progress, diagnostics=False)
    guess = guess_loss(configs[0])
    return [cell_row(r, guess) for r in records]


def run_cell(config: ExperimentConfig) -> dict:
    """Train one cell on its own; the same row run_grid reports for it."""
    return run_cells([config])[0]


def init_worker() -> None:
    """Set up a pool process: one BLAS thread (two single-thread processes use two cores better than threads),
    and glibc's default mmap threshold (128 kB) back: a worker trains grids of small networks without
    diagnostics, and giving memory back between grids matters more there (~35 MB for the pool) than the
    page faults of the few big temporaries."""
    from core.process import tune_malloc

    tune_malloc(mmap_threshold=128 << 10)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


# ------------------------------------------------------------------------------- the pool's processes
# Keys of multiprocessing's preparation data that make a new process import the parent's main module.
_MAIN_KEYS = ("init_main_from_path", "init_main_from_name")

# Python versions whose multiprocessing.popen_forkserver.Popen._launch _LeanPopen._launch repeats (the same
# code in 3.11, 3.12 and 3.13); on others the pool uses the standard forkserver processes.
_LAUNCH_VERSIONS = ((3, 11), (3, 12), (3, 13))


try:
    from multiprocessing import forkserver, popen_forkserver
except ImportError:  # no forkserver on this platform (Windows): worker_context() says so when called
    popen_forkserver = None


class _LeanPopen(popen_forkserver.Popen if popen_forkserver else object):
    """popen_forkserver.Popen whose child does not import the parent's __main__ (it needs only this module)."""

    def _launch(self, process_obj) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        for key in _MAIN_KEYS:
            prep_data.pop(key, None)
        # From here on the same as popen_forkserver.Popen._launch.
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        # Keep a duplicate of the data pipe's write end as a sentinel of the parent process used by the child.
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class WorkerProcess(getattr(context, "ForkServerProcess", context.Process)):
    """A forkserver process that starts without the parent's main module."""

    @staticmethod
    def _Popen(process_obj):
        return _LeanPopen(process_obj)


class _WorkerContext(getattr(context, "ForkServerContext", context.BaseContext)):
    Process = WorkerProcess


def worker_context() -> context.BaseContext:
    """The multiprocessing context of the Phase pool: forkserver (no fork of a multi-threaded server), with
    WorkerProcess where this Python's forkserver matches _LeanPopen, else the standard forkserver processes."""
    if sys.version_info[:2] in _LAUNCH_VERSIONS and popen_forkserver is not None:
        return _WorkerContext()
    return multiprocessing.get_context("forkserver")
