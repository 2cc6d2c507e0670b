"""Training Init Lab's networks: every scheme on the same data and mini-batches, with per-layer records.

`run_experiment(config)` -> {scheme: RunRecord}; `run_many(configs)` -> [RunRecord] trains many small runs,
stacking the ones that differ only in their initialization into (K, fan_in, fan_out) arrays. Residual or
normalized configs train with core.modern's network and give the same RunRecord (core/modern_record.py).

The engine is core/engine.py (the training step, optimizer and evaluation), what a run records
core/recorder.py, and the process's tuning (threads, malloc) core/process.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from core.config import ExperimentConfig, validate
from core.engine import Stack, batch_indices, blas_threads, init_params, initial_network  # noqa: F401 (API)
from core.engine import load_data as _load
from core.initializers import PARAMS
from core.records import DataSplit, RunRecord

Progress = Callable[[float, str], None] | None

# Fields that only change the initialization: configs equal in everything else train together (the
# registry's parameters but the leaky slope, which the activation reads too).
INIT_FIELDS = (
    "schemes",
    *(p.field for name, p in PARAMS.items() if name != "slope"),
    "bias_init",
    "bias_value",
)
# Stacking pays at width 32 in both float types, at 64 in float32 only (docs/performance.md)
STACK_MAX_WIDTH = {"float32": 64, "float64": 48}
STACK_MAX_K = 8


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def run_experiment(config: ExperimentConfig, progress: Progress = None) -> dict[str, RunRecord]:
    """Train every scheme of `config` on the same data and mini-batches; one record per scheme, in order.

    `progress(fraction, message)` is called now and then while training (fraction in [0, 1]).
    """
    validate(config)
    singles = [config.replace(schemes=(s,)) for s in config.schemes]
    records = run_many(singles, progress=progress)
    return {s: dataclasses.replace(r, config=config) for s, r in zip(config.schemes, records)}


def run_many(
    configs: Sequence[ExperimentConfig], progress: Progress = None, diagnostics: bool = True
) -> list[RunRecord]:
    """Train each config (each with exactly one scheme); records in the order of `configs`.

    Configs that differ only in INIT_FIELDS are trained together in stacked arrays where that pays
    (width <= STACK_MAX_WIDTH[dtype]); records are the same as when each is trained alone.
    `diagnostics=False` records only the losses, accuracies and confusion matrix (no per-layer
    statistics, histograms, snapshots or decision boundary): for grids of many small runs.
    """
    configs = list(configs)
    for c in configs:
        if not isinstance(c, ExperimentConfig):
            raise ValueError(f"configs must be ExperimentConfig objects, got {type(c).__name__}")
        validate(c)
        if len(c.schemes) != 1:
            raise ValueError(f"run_many needs one scheme per config, got schemes={c.schemes!r}")
    groups: dict[ExperimentConfig, list[int]] = {}
    from core.modern_record import check, is_modern

    modern = [i for i, c in enumerate(configs) if is_modern(c)]
    for i in modern:
        check(configs[i])
    for i, c in enumerate(configs):
        if (
            i in modern
        ):  # residual or normalized: core.modern's network, the same RunRecord (core.modern_record)
            continue
        groups.setdefault(c.replace(**{f: getattr(ExperimentConfig(), f) for f in INIT_FIELDS}), []).append(i)
    stacks: list[list[int]] = []
    for key, members in groups.items():
        k_max = STACK_MAX_K if key.width <= STACK_MAX_WIDTH[key.dtype] else 1
        stacks += [members[i : i + k_max] for i in range(0, len(members), k_max)]
    stacks += [[i] for i in modern]
    total = sum(configs[s[0]].work * len(s) for s in stacks) or 1.0
    done = 0.0
    records: list[RunRecord | None] = [None] * len(configs)
    data_cache: dict[tuple, DataSplit] = {}
    for stack in stacks:
        cfgs = [configs[i] for i in stack]
        work = cfgs[0].work * len(cfgs)

        def sub_progress(f: float, msg: str, done=done, work=work) -> None:
            if progress is not None:
                progress(min(1.0, (done + f * work) / total), msg)

        data = _load(cfgs[0], data_cache)
        if stack[0] in modern:
            from core.modern_record import train_record

            records[stack[0]] = train_record(cfgs[0], data, sub_progress)
        else:
            for i, rec in zip(stack, Stack(cfgs, data, diagnostics).run(sub_progress)):
                records[i] = rec
        done += work
    if progress is not None:
        progress(1.0, "done")
    return records  # type: ignore[return-value]
