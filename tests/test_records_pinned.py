"""Records pinned to the code before the restructure of issue 15: the same config gives bit-identical records.

tests/fixtures/records_digests.json holds a sha256 per record, computed with main's code before the change
(`python -m tests.test_records_pinned` rewrites it; do that only when a change of the records is intended).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from core.config import ExperimentConfig
from core.train import run_experiment, run_many

FIXTURE = Path(__file__).parent / "fixtures" / "records_digests.json"
_SMALL = dict(steps=30, record_every=5, n_checkpoints=3, n_samples=200, depth=2, width=8)

# One experiment per entry: together they pass every activation, optimizer, dtype, a divergence, LSUV,
# the gain/scale/bias parameters and 2-D and digits data through the engine and the recorder.
EXPERIMENTS: dict[str, ExperimentConfig] = {
    "tanh_all_schemes": ExperimentConfig(
        schemes=("zeros", "constant", "normal", "uniform", "standard_uniform", "lecun_normal"), **_SMALL
    ),
    "relu_more_schemes": ExperimentConfig(
        activation="relu",
        schemes=(
            "lecun_uniform",
            "xavier_normal",
            "he_normal",
            "he_uniform",
            "orthogonal",
            "truncated_normal",
        ),
        optimizer="momentum",
        **_SMALL,
    ),
    "sigmoid_lsuv_adam": ExperimentConfig(
        activation="sigmoid", schemes=("lsuv", "xavier_uniform"), optimizer="adam", lr=0.01, **_SMALL
    ),
    "leaky_gain_auto": ExperimentConfig(
        activation="leaky_relu",
        leaky_slope=0.2,
        gain="auto",
        he_mode="fan_out",
        schemes=("he_normal", "xavier_uniform", "orthogonal"),
        bias_init="normal",
        bias_value=0.1,
        **_SMALL,
    ),
    "gelu_float32": ExperimentConfig(
        activation="gelu", dtype="float32", schemes=("he_normal", "lecun_normal"), dataset="moons", **_SMALL
    ),
    "linear_digits": ExperimentConfig(
        activation="linear",
        dataset="digits",
        schemes=("xavier_uniform", "normal"),
        weight_std=0.1,
        bias_init="standard_uniform",
        steps=10,
        record_every=5,
        n_checkpoints=2,
        depth=1,
        width=16,
    ),
    "diverges": ExperimentConfig(
        schemes=("normal", "xavier_uniform"),
        activation="linear",
        weight_std=10.0,
        scale=100.0,
        lr=10.0,
        **_SMALL,
    ),
    "wide_deep": ExperimentConfig(
        schemes=("xavier_uniform", "he_normal"), depth=4, width=40, steps=20, record_every=10, n_checkpoints=2
    ),
}


def _feed(h, value) -> None:
    """Feed everything a record holds, in a fixed order, into the hash `h`."""
    if isinstance(value, np.ndarray):
        h.update(f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        for k in sorted(value):
            h.update(repr(k).encode())
            _feed(h, value[k])
    elif isinstance(value, (tuple, list)):
        h.update(f"seq{len(value)}".encode())
        for v in value:
            _feed(h, v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            _feed(h, getattr(value, name))
    else:
        h.update(repr(value).encode())


def record_digest(rec) -> str:
    """sha256 of every field of a RunRecord but its input (`config`, which gains fields) and wall time."""
    h = hashlib.sha256()
    for name in rec.__dataclass_fields__:
        if name not in ("config", "seconds"):
            h.update(name.encode())
            _feed(h, getattr(rec, name))
    return h.hexdigest()


def digests() -> dict[str, str]:
    out = {}
    for name, cfg in EXPERIMENTS.items():
        for scheme, rec in run_experiment(cfg).items():
            out[f"{name}/{scheme}"] = record_digest(rec)
    # stacked: configs that differ only in their initialization train together
    cfgs = [
        EXPERIMENTS["wide_deep"].replace(schemes=(s,), scale=x)
        for s in ("xavier_uniform", "orthogonal")
        for x in (0.5, 2.0)
    ]
    for c, rec in zip(cfgs, run_many(cfgs)):
        out[f"stacked/{c.schemes[0]}/{c.scale}"] = record_digest(rec)
    return out


def test_records_are_bit_identical_to_the_pinned_ones() -> None:
    """Fails if the engine, the initializers or the recorder changed any number of a record."""
    pinned = json.loads(FIXTURE.read_text())
    got = digests()
    assert got.keys() == pinned.keys()
    assert {k: v for k, v in got.items() if v != pinned[k]} == {}


if __name__ == "__main__":
    if "--check" in sys.argv:
        pytest.main([__file__, "-q"])
    else:
        FIXTURE.write_text(json.dumps(digests(), indent=1, sort_keys=True) + "\n")
