"""figures.modern: the sentences say what the records hold, the figures draw them (records from small real runs)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.config import ExperimentConfig
from core.modern import run_modern
from figures import modern as fm

SMALL = ExperimentConfig(depth=4, width=16, steps=40, record_every=10, n_checkpoints=3)


@pytest.fixture(scope="module")
def race():
    configs = fm.RACE.configs(SMALL.replace(steps=30))
    return run_modern(configs), fm.RACE.labels


def test_parts_are_variants_of_the_page_config() -> None:
    base = ExperimentConfig(**fm.DEFAULTS, **fm.FIXED)
    for name in fm.PARTS:
        part = getattr(fm, name)
        configs = part.configs(base)
        assert len(configs) == len(part.labels) == len(set(part.labels))
        # same data, batch order and seed within a part
        assert (
            len({(c.dataset, c.n_samples, c.data_seed, c.seed, c.batch_size, c.steps) for c in configs}) == 1
        )


def test_outcome_and_training_sentence_follow_the_record(race) -> None:
    records, labels = race
    for r, label in zip(records, labels):
        text = fm.training_sentence(r, label)
        if r.diverged_at is not None:
            assert fm.outcome(r) == "diverged" and f"step {r.diverged_at}" in text
            continue
        assert fm.fmt(r.train_loss[-1]) in text and f"{r.test_acc[-1]:.0%}" in text
        chance = math.log(3)
        assert (fm.outcome(r) == "trained") == (r.train_loss[-1] < fm.TRAINED * chance)


def test_race_sentence_names_every_network_once(race) -> None:
    records, labels = race
    text = fm.race_sentence(records, labels)
    for label in labels:
        assert text.count(label) >= 1
    finite = [(r.train_loss[-1], lab) for r, lab in zip(records, labels) if r.diverged_at is None]
    assert f"Lowest final train loss: {min(finite)[1]}" in text


def test_growth_sentence_numbers_are_the_records() -> None:
    c = SMALL.replace(block="residual", activation="relu", schemes=("he_normal",), steps=0, width=64)
    r = run_modern([c])[0]
    y = r.layer_stats["stream_std"][0]
    text = fm.growth_sentence(r, "α = 1")
    assert f"{fm.fmt(float(y[-1]))} after block 4" in text
    factor = (y[-1] ** 2 / r.input_std[0] ** 2) ** (1 / 4)
    assert f"×{factor:.3g} per block" in text and "(recursion: ×2)" in text
    np.testing.assert_allclose(fm.prediction(r)[-1] ** 2, r.input_std[0] ** 2 * 16, rtol=1e-12)


def test_symmetry_sentence_counts_units() -> None:
    c = SMALL.replace(schemes=("constant",), norm="batch")
    sym, rnd = run_modern([c, c.replace(schemes=("xavier_normal",))])
    assert "still has 1 distinct unit" in fm.symmetry_sentence(sym, "x")
    assert "between 16 and 16 distinct units out of 16" in fm.symmetry_sentence(rnd, "y")


def test_figures_draw_one_trace_per_network(race) -> None:
    records, labels = race
    assert [t.name for t in fm.loss_figure(records, labels).data] == labels
    assert fm.loss_figure(records, labels, log=True).layout.yaxis.type == "log"
    std = fm.std_figure(records, labels, "pre_std")
    assert list(std.data[0].y) == pytest.approx(list(records[0].layer_stats["pre_std"][0]))
    assert [t.name for t in fm.distinct_figure(records, labels).data] == labels


def test_fmt() -> None:
    assert fm.fmt(1.23456) == "1.23" and fm.fmt(6.8e-26) == "6.8e-26" and fm.fmt(float("nan")) == "not finite"
