"""Why a run stopped, in the reader's language: core records the reason in plain English (the records' text,
pinned by tests/test_records_pinned.py); this module says it in a whole translated sentence."""

from __future__ import annotations

import re

from core.records import RunRecord
from i18n import N_, _

# core's reasons (core/engine.py, core/modern.py, core/modern_record.py) -> the sentence's middle part
_REASONS = (
    ("the mini-batch loss became NaN", N_("the mini-batch loss became NaN")),
    ("the mini-batch loss became infinite or NaN", N_("the mini-batch loss became infinite or NaN")),
    ("the mini-batch loss became infinite", N_("the mini-batch loss became infinite")),
    ("the mini-batch gradient became infinite or NaN", N_("the mini-batch gradient became infinite or NaN")),
    ("the loss or a gradient became infinite or NaN", N_("the loss or a gradient became infinite or NaN")),
    ("the weights overflowed to infinity", N_("the weights overflowed to infinity")),
)
_LAYER = re.compile(r"the update of layer (\d+)'s weights was infinite or NaN")


def reason(record: RunRecord) -> str | None:
    """What became non-finite, translated; None for a reason this module does not know."""
    text = record.divergence or ""
    m = _LAYER.search(text)
    if m:
        return _("the update of layer {layer}'s weights was infinite or NaN", layer=int(m.group(1)))
    for english, message in _REASONS:  # the longer of two that share a start comes first
        if english in text:
            return str(message)
    return None


def sentence(record: RunRecord) -> str:
    """The whole sentence a page shows for a diverged run ("" if it did not diverge)."""
    if record.diverged_at is None:
        return ""
    why = reason(record)
    if why is None:  # a reason core gives that has no translation here: its own words
        return record.divergence or _("Training stopped at step {step}.", step=int(record.diverged_at))
    return _(
        "Training stopped at step {step}: {reason}. The step size or the initial weights are too large for this "
        "network; the records end at the last finite step.",
        step=int(record.diverged_at),
        reason=why,
    )
