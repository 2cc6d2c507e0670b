"""The shared cache: one cached entry point per kind of run, keyed by the config and the code version.

Shared across sessions (a class opening one link computes once), bounded, with a progress bar for long runs.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import streamlit as st

from core.config import ExperimentConfig, validate
from core.process import available_cpus
from core.records import RunRecord
from i18n import _

_LOG = logging.getLogger(__name__)
_CORE = Path(__file__).resolve().parent.parent / "core"


def _code_version() -> str:
    digest = hashlib.sha1()
    for path in sorted(_CORE.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# Part of every cache key: a deploy that changes core/ never serves results of the old code.
CODE_VERSION = _code_version()
MAX_ENTRIES = 64  # per cached function
MAX_SIZE = "256MB"  # pickled bytes per cached function; records are compact (binned histograms, float32)
PROGRESS_AFTER = 0.5  # seconds before a progress bar appears (fast runs never flash one)

Progress = Callable[[float, str], None]

# At most this many trainings run at once in the server; the others wait their turn (a class's edited links
# used to start together, ~12 at a time on 2 cores, each slowing all: first-chart p95 ~50 s, docs/classroom.md).
TRAINING_SLOTS = available_cpus()
_SLOTS = threading.Semaphore(TRAINING_SLOTS)
_QUEUE_LOCK = threading.Lock()
_waiting: list[int] = []  # tickets of the trainings waiting for a slot, in order of arrival
_tickets = itertools.count()
_holding = threading.local()  # a thread that holds a slot (nested cached calls do not take a second)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@contextlib.contextmanager
def training_slot(progress: Progress | None = None, poll: float = 0.5) -> Iterator[None]:
    """Wait for one of TRAINING_SLOTS, saying so through `progress` while waiting; hold it inside."""
    if getattr(_holding, "slot", False):
        yield
        return
    if not _SLOTS.acquire(blocking=False):
        with _QUEUE_LOCK:
            ticket = next(_tickets)
            _waiting.append(ticket)
        try:
            while not _SLOTS.acquire(timeout=poll):  # every slot is taken
                if progress is not None:
                    with _QUEUE_LOCK:
                        before = sum(t < ticket for t in _waiting)
                    progress(
                        0.0,
                        f"Waiting for the server: {_n(TRAINING_SLOTS, 'experiment')} running, "
                        f"{_n(before, 'other')} waiting since before this one…",
                    )
        finally:
            with _QUEUE_LOCK:
                _waiting.remove(ticket)
    _holding.slot = True
    try:
        yield
    finally:
        _holding.slot = False
        _SLOTS.release()


def config_key(config: ExperimentConfig) -> str:
    """A stable text key of a config (field order and types included)."""
    return json.dumps(dataclasses.asdict(config), sort_keys=True, default=repr)


@contextlib.contextmanager
def progress_bar(container: Any = None, after: float = PROGRESS_AFTER) -> Iterator[Progress]:
    """Yield a `progress(fraction, message)` callback that draws a bar once the work passes `after` s.

    The callback is safe to hand to a cached function as an underscore argument: it draws in the caller's
    context, so st.cache_data does not record the bar and cache hits replay nothing.
    """
    slot = (st if container is None else container).empty()
    outer = contextvars.copy_context()  # the page's context, outside any cached function
    start = time.perf_counter()

    def progress(fraction: float, message: str = "") -> None:
        if time.perf_counter() - start < after:
            return
        frac = min(max(float(fraction), 0.0), 1.0)
        outer.run(slot.progress, frac, text=message or "Running the experiment…")

    try:
        yield progress
    finally:
        outer.run(slot.empty)


@st.cache_data(max_entries=MAX_ENTRIES, max_size=MAX_SIZE, show_spinner=False)
def _experiment(
    key: str, code_version: str, _config: ExperimentConfig, _progress: Progress | None = None
) -> dict[str, RunRecord]:
    # Only `key` and `code_version` are hashed; `_config` is the same config as `key`.
    from core.train import run_experiment

    with training_slot(_progress):
        return run_experiment(_config, progress=_progress)


def plain_error(err: Exception) -> str:
    """A ValueError from validation, in words for the page."""
    text = str(err)
    if text.startswith("schemes must be a non-empty"):
        return _("Pick at least one initialization to run the experiment.")
    return _("This experiment can't run as set: {reason}.", reason=text)


def experiment(config: ExperimentConfig, *, stop: bool = True) -> dict[str, RunRecord] | None:
    """Run (or fetch from the shared cache) every scheme of `config`: scheme id -> RunRecord.

    A config that fails `validate` shows a plain st.error and stops the page (or returns None if
    stop=False); it never shows a traceback.
    """
    from core.modern_record import check

    try:
        validate(config)
        check(config)  # residual or normalized networks (core.modern): what they cannot do, in words
    except ValueError as err:
        st.error(plain_error(err), icon=":material/block:")
        if stop:
            st.stop()
        return None
    with progress_bar() as progress:
        return _experiment(config_key(config), CODE_VERSION, config, progress)


def clear() -> None:
    """Empty the experiment cache (tests, benchmarks)."""
    _experiment.clear()


# ---------------------------------------------------------------- phase diagram (owner: helper "phase")


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def _phase_grid(key: str, code_version: str, _pc: Any, _progress: Progress | None = None) -> Any:
    # Only `key` and `code_version` are hashed. Cells missing from core.phase's cell cache are trained; a
    # finer grid reuses the coarse grid's cells there, and this cache makes a repeated grid instant.
    from core.phase import run_grid

    with training_slot(_progress):
        return run_grid(_pc, progress=_progress)


def phase_grid(pc: Any) -> Any:
    """The phase diagram's table (core.phase.run_grid), cached and shared; a plain error stops the page."""
    from core.phase import validate_phase

    try:
        validate_phase(pc)
    except ValueError as err:
        st.error(plain_error(err), icon=":material/block:")
        st.stop()
    key = json.dumps(dataclasses.asdict(pc), sort_keys=True)
    with progress_bar() as progress:
        return _phase_grid(key, CODE_VERSION, pc, progress)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def phase_theory(activation: str, sigma_b: float, sigma_w: tuple[float, ...]) -> Any:
    """core.phase.theory_curves (chi_1, xi, trainable depth) at these sigma_w, cached."""
    import numpy as np

    from core.phase import theory_curves

    return theory_curves(activation, sigma_b, np.asarray(sigma_w, dtype=float))


# ---------------------------------------------------------------- symmetry lesson (owner: helper "symmetry")


@st.cache_data(max_entries=MAX_ENTRIES, max_size=MAX_SIZE, show_spinner=False)
def _run_pair(
    key: str, code_version: str, _configs: tuple[ExperimentConfig, ...], _progress: Progress | None = None
) -> list[RunRecord]:
    # Only `key` and `code_version` are hashed. run_many stacks the two starts (they differ only in
    # their initialization), so both see the same data, batches and seed.
    from core.train import run_many

    with training_slot(_progress):
        return run_many(list(_configs), progress=_progress)


def run_pair(student: ExperimentConfig, reference: ExperimentConfig) -> tuple[RunRecord, RunRecord] | None:
    """Train (or fetch from the shared cache) two one-scheme configs together: (student, reference).

    A config that fails `validate` shows a plain st.error and returns None (no traceback).
    """
    try:
        validate(student)
        validate(reference)
    except ValueError as err:
        st.error(plain_error(err), icon=":material/block:")
        return None
    key = config_key(student) + "|" + config_key(reference)
    with progress_bar() as progress:
        a, b = _run_pair(key, CODE_VERSION, (student, reference), progress)
    return a, b


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def data_split(dataset: str, n_samples: int, noise: float, n_classes: int, data_seed: int) -> Any:
    """core.data.load of a config's data set (the points drawn under a decision boundary), cached."""
    from core.data import load

    return load(dataset, n_samples, noise, n_classes, data_seed)


# ---------------------------------------------------------------- normalization & residuals (owner: helper "modern")


@st.cache_data(max_entries=MAX_ENTRIES, max_size=MAX_SIZE, show_spinner=False)
def _modern(
    key: str, code_version: str, _configs: tuple[ExperimentConfig, ...], _progress: Progress | None = None
) -> list[Any]:
    # Only `key` and `code_version` are hashed; every config trains on the same data, batches and seed.
    from core.modern import run_modern

    with training_slot(_progress):
        return run_modern(list(_configs), progress=_progress)


def modern(configs: list[ExperimentConfig]) -> list[Any] | None:
    """core.modern.run_modern of one-scheme configs (a ModernRecord each), cached and shared.

    A config that fails `validate` shows a plain st.error and returns None (no traceback).
    """
    try:
        for c in configs:
            validate(c)
    except ValueError as err:
        st.error(plain_error(err), icon=":material/block:")
        return None
    key = "|".join(config_key(c) for c in configs)
    with progress_bar() as progress:
        return _modern(key, CODE_VERSION, tuple(configs), progress)
