"""analysis.modern and figures.modern: the sentences say what the records hold (in English and German), the
figures draw them (records from small real runs)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import i18n
from analysis import modern as am
from core.config import ExperimentConfig
from core.modern import run_modern
from figures import modern as fm
from i18n import numbers

SMALL = ExperimentConfig(depth=4, width=16, steps=40, record_every=10, n_checkpoints=3)
NUMBER = r"(−?[\d.,]+(?: ?× ?10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?|10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)"  # a number as i18n.numbers writes it
_SUPER = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def parse(text: str, lang: str = "en") -> float:
    """The float an i18n.numbers text stands for: "6.8×10⁻²⁶", "10⁴", "−0.5", German "1,2 × 10⁻³"."""
    t = text.replace(" ", "").replace("−", "-")
    t = t.replace(".", "").replace(",", ".") if lang == "de" else t.replace(",", "")
    if "10" in t and t.translate(_SUPER) != t:
        mant, _, power = t.rpartition("10")
        mant = mant.rstrip("×") or "1"
        sign = -1.0 if mant == "-" else 1.0
        return (sign if mant in ("-", "1") else float(mant)) * 10.0 ** int(power.translate(_SUPER))
    return float(t)


def test_parse_reads_what_numbers_writes() -> None:
    for x in (6.8e-26, 1e4, -0.5, 0.0123, 2.0, 1.23e5):
        for lang in ("en", "de"):
            assert parse(numbers.num(x, 3, lang=lang), lang) == pytest.approx(x, rel=5e-3)


@pytest.fixture(scope="module")
def race():
    configs = am.RACE.configs(SMALL.replace(steps=30))
    return run_modern(configs), am.RACE.labels


def test_parts_are_variants_of_the_page_config() -> None:
    base = am.base_config()
    assert base == ExperimentConfig(**am.DEFAULTS, **am.FIXED)
    for name in am.PARTS:
        part = getattr(am, name)
        configs = part.configs(base)
        assert len(configs) == len(part.labels) == len(set(part.labels))
        # same data, batch order and seed within a part
        assert (
            len({(c.dataset, c.n_samples, c.data_seed, c.seed, c.batch_size, c.steps) for c in configs}) == 1
        )


def test_outcome_and_training_sentence_follow_the_record(race) -> None:
    records, labels = race
    for r, label in zip(records, labels):
        text = am.training_sentence(r, label)
        if r.diverged_at is not None:
            assert am.outcome(r) == "diverged" and f"step {r.diverged_at}" in text
            continue
        assert numbers.num(r.train_loss[-1], 3) in text and numbers.pct(r.test_acc[-1]) in text
        assert text.startswith(f"**{label}**: {am.outcome(r)}.")
        assert (am.outcome(r) == "trained") == (r.train_loss[-1] < am.TRAINED * math.log(3))


def test_race_sentence_names_every_network_and_the_lowest_loss(race) -> None:
    records, labels = race
    text = am.race_sentence(records, labels)
    for label in labels:
        assert text.count(label) >= 1
    finite = [(r.train_loss[-1], lab) for r, lab in zip(records, labels) if r.diverged_at is None]
    loss, best = min(finite)
    assert f"Lowest final train loss: {best} ({numbers.num(loss, 3)})." in text


def test_growth_sentence_numbers_are_the_records() -> None:
    c = SMALL.replace(block="residual", activation="relu", schemes=("he_normal",), steps=0, width=64)
    r = run_modern([c])[0]
    y = r.layer_stats["stream_std"][0]
    text = am.growth_sentence(r, "α = 1")
    end = parse(re.search(rf"{NUMBER} after block 4", text).group(1))
    assert end == pytest.approx(y[-1], rel=5e-3)
    factor = (y[-1] ** 2 / r.input_std[0] ** 2) ** (1 / 4)
    assert f"{numbers.times(factor, 3)} per block" in text and "(recursion: ×2)" in text
    np.testing.assert_allclose(am.prediction(r)[-1] ** 2, r.input_std[0] ** 2 * 16, rtol=1e-12)
    x, measured, predicted = am.stream_curve(r)
    assert list(x) == [0, 1, 2, 3, 4] and measured[0] == predicted[0] == pytest.approx(r.input_std[0])
    # the figure draws exactly these numbers: markers measured, the dashed line the recursion
    fig = fm.stream_figure([r], ["α = 1"])
    assert list(fig.data[0].y) == pytest.approx(list(measured)) and list(fig.data[1].y) == pytest.approx(
        list(predicted)
    )


def test_symmetry_sentence_counts_units() -> None:
    c = SMALL.replace(schemes=("constant",), norm="batch")
    sym, rnd = run_modern([c, c.replace(schemes=("xavier_normal",))])
    assert "still has 1 distinct unit" in am.symmetry_sentence(sym, "x")
    assert "between 16 and 16 distinct units out of 16" in am.symmetry_sentence(rnd, "y")
    assert list(am.distinct_max(sym)) == [1.0] * len(sym.eval_steps)


def test_figures_draw_one_trace_per_network(race) -> None:
    records, labels = race
    assert [t.name for t in fm.loss_figure(records, labels).data] == labels
    assert fm.loss_figure(records, labels, log=True).layout.yaxis.type == "log"
    std = fm.std_figure(records, labels, "pre_std")
    assert list(std.data[0].y) == pytest.approx(list(records[0].layer_stats["pre_std"][0]))
    assert [t.name for t in fm.distinct_figure(records, labels).data] == labels


def test_sentences_and_figures_in_german(race) -> None:
    """The same record in German: whole German sentences, German numbers, German chart words."""
    records, _labels = race
    r = next(r for r in records if r.diverged_at is None)
    with i18n.use("de"):
        labels = am.RACE.labels
        label = labels[records.index(r)]
        text = am.training_sentence(r, label)
        assert numbers.num(r.train_loss[-1], 3) in text and "Trainingsdaten" in text
        assert "on the whole training set" not in text
        fig = fm.loss_figure(records, labels)
        assert fig.layout.xaxis.title.text == "Schritt" and fig.layout.title.text.startswith(
            "Trainingsverlust"
        )
