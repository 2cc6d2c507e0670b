"""analysis.divergence: every reason core records for a diverged run is said whole, in English and German."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import i18n
from analysis import divergence

# core's own wording (core/engine.py, core/modern_record.py), as the records hold it
REASONS = [
    "the mini-batch loss became NaN",
    "the mini-batch loss became infinite",
    "the mini-batch loss became infinite or NaN",
    "the mini-batch gradient became infinite or NaN",
    "the update of layer 3's weights was infinite or NaN",
    "the weights overflowed to infinity",
]


def _record(why: str, step: int = 7) -> SimpleNamespace:
    text = (
        f"Training stopped at step {step}: {why}. The step size or the initial weights are too large for this "
        "network; the records end at the last finite step."
    )
    return SimpleNamespace(diverged_at=step, divergence=text)


@pytest.mark.parametrize("why", REASONS)
def test_english_is_the_records_own_sentence_and_german_has_no_english(why):
    rec = _record(why)
    assert divergence.sentence(rec) == rec.divergence
    with i18n.use("de"):
        german = divergence.sentence(rec)
    assert german.startswith("Das Training brach bei Schritt 7 ab: ") and "became" not in german
    if "layer 3" in why:
        assert "Schicht 3" in german


def test_a_run_that_did_not_diverge_says_nothing_and_an_unknown_reason_keeps_its_words():
    assert divergence.sentence(SimpleNamespace(diverged_at=None, divergence="")) == ""
    odd = SimpleNamespace(diverged_at=4, divergence="the loss became inf at step 4")
    assert divergence.sentence(odd) == "the loss became inf at step 4"
