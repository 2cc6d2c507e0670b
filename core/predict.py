"""Predict first: one question per lesson about the run on the page, its options, and the right one from the run.

Every right answer is computed from the records (never written by hand); `verdict` says in words how an answer
compares with what the run measured and which chart shows it.
"""

# Prediction before demonstration: Crouch, Fagen, Callan & Mazur (2004), Am. J. Phys. 72, 835;
# Miller, Lasry, Chu & Mazur (2013), Phys. Rev. ST Phys. Educ. Res. 9, 020113.

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.records import RunRecord

# Learned less than this share of its initial loss: "never learns" (or it diverged).
LEARNED_SHARE = 0.01
# The log scale of the Depth questions: (lowest log10 of the ratio, the option's words), highest first.
# A ratio belongs to the first option whose lower end it reaches (the ends are half-open: 10^-0.5 is "1x").
DECADES: tuple[tuple[float, str], ...] = (
    (0.5, "10 × or more (it grows)"),
    (-0.5, "about the same (1 ×)"),
    (-1.5, "about 10 %"),
    (-2.5, "about 1 %"),
    (-6.5, "between a millionth and 0.1 %"),
    (-math.inf, "less than a millionth (or exactly 0)"),
)


@dataclass(frozen=True)
class Question:
    """One question: options, the indices of the right ones, the measured truth and where to see it."""

    prompt: str
    options: tuple[str, ...]
    correct: frozenset[int]  # several when options tie (two schemes end equal)
    truth: str  # what the run measured, in words ("1.7 × 10⁻¹² of the input's")
    reason: str  # one line pointing at the chart that shows it
    log10: float | None = None  # the measured ratio's log10, for the DECADES questions

    @property
    def key(self) -> str:
        """A short id: a new run (or another question) asks anew."""
        text = "|".join((self.prompt, *self.options, self.truth))
        return hashlib.sha1(text.encode()).hexdigest()[:10]


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(x: float) -> str:
    """1.7 × 10⁻¹² style for tiny or huge numbers, plain digits between 0.01 and 1000."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    if 0.01 <= abs(x) < 1000:
        return f"{x:.3g}"
    e = math.floor(math.log10(abs(x)))
    m = x / 10**e
    if round(m, 1) >= 10:
        m, e = m / 10, e + 1
    return f"{m:.1f} × 10{str(e).translate(_SUP)}"


def decade(ratio: float) -> int:
    """The index into DECADES of a ratio (0 or negative: the last option)."""
    lg = math.log10(ratio) if ratio > 0 else -math.inf
    return next(i for i, (lo, _) in enumerate(DECADES) if lg >= lo)


# ------------------------------------------------------------------------------------------- symmetry
SYMMETRY_OPTIONS = (
    "1: all {K} units are still copies of one",
    "a few (2 to {K1})",
    "all {K}: every unit different",
)


def symmetry(record: RunRecord) -> Question | None:
    """After the run's last recorded step: how many distinct units does hidden layer 1 have?"""
    if not len(record.stat_steps) or "distinct" not in record.symmetry:
        return None
    K = int(record.sizes[1])
    step = int(record.stat_steps[-1])
    n = int(round(float(record.symmetry["distinct"][-1, 0])))
    right = 0 if n <= 1 else 2 if n >= K else 1
    opts = tuple(o.format(K=K, K1=K - 1) for o in SYMMETRY_OPTIONS)
    stopped = f" (training stopped early; this is step {step})" if record.diverged_at is not None else ""
    return Question(
        f"After {step} steps, how many different units will hidden layer 1 have (of its {K})?",
        opts,
        frozenset({right}),
        f"{n} of its {K} units {'is' if n == 1 else 'are'} different{stopped}",
        "The chart 'Are the units still copies of each other?' counts them at every step.",
    )


# ---------------------------------------------------------------------------------------------- depth
def depth_signal(record: RunRecord, input_std: float) -> Question | None:
    """At the last hidden layer, at initialization: the std of the signal relative to the input's."""
    if not len(record.stat_steps) or input_std <= 0:
        return None
    L = len(record.sizes) - 2
    ratio = float(record.layer_stats["act_std"][0, L - 1]) / input_std
    if not math.isfinite(ratio):
        return None
    return Question(
        f"At initialization, the signal's spread (std) at hidden layer {L} will be about … of the input's:",
        tuple(w for _, w in DECADES),
        frozenset({decade(ratio)}),
        f"the signal's std is {sci(ratio)} of the input's",
        "The chart 'Standard deviation, layer by layer' shows the signal at every layer at step 0.",
        math.log10(ratio) if ratio > 0 else -math.inf,
    )


def depth_gradient(record: RunRecord) -> Question | None:
    """At initialization: the std of dLoss/dz at hidden layer 1 relative to that at the output."""
    if not len(record.stat_steps):
        return None
    b = record.layer_stats["backprop_std"][0]
    L = len(record.sizes) - 2
    if not (b[L] > 0 and math.isfinite(b[L]) and math.isfinite(b[0])):
        return None
    ratio = float(b[0] / b[L])
    return Question(
        "… and the gradient dLoss/dz at hidden layer 1, relative to the gradient at the output:",
        tuple(w for _, w in DECADES),
        frozenset({decade(ratio)}),
        f"the gradient's std is {sci(ratio)} of the output's",
        "The gradient's line in 'Standard deviation, layer by layer' shows it at every layer.",
        math.log10(ratio) if ratio > 0 else -math.inf,
    )


# ------------------------------------------------------------------------------------------- training
def _label(r: RunRecord) -> str:
    from core.initializers import SCHEMES

    return SCHEMES[r.scheme].label


def final_loss(r: RunRecord) -> float:
    """The whole-train-split loss at the last finite recorded step; inf if the run diverged."""
    if r.diverged_at is not None or not len(r.train_loss):
        return math.inf
    return float(r.train_loss[-1])


def never_learns(r: RunRecord) -> bool:
    """Diverged, or its train loss fell by less than LEARNED_SHARE of where it started."""
    if r.diverged_at is not None or len(r.train_loss) < 2:
        return True
    return not float(r.train_loss[-1]) <= (1.0 - LEARNED_SHARE) * float(r.train_loss[0])


def training_lowest(records: Sequence[RunRecord]) -> Question | None:
    """Which start ends with the lowest train loss (ties: every tied start is right)?"""
    if len(records) < 2:
        return None
    losses = np.array([final_loss(r) for r in records])
    if not np.isfinite(losses).any():
        return None
    best = losses.min()
    right = frozenset(int(i) for i in np.flatnonzero(losses <= best * (1 + 1e-9)))
    names = [_label(r) for r in records]
    return Question(
        "Which of these starts will end with the lowest training loss?",
        tuple(names),
        right,
        " and ".join(names[i] for i in sorted(right)) + f" ends lowest, at {best:.4g}",
        "The loss curves in 'Loss and accuracy' and the table 'Results' show every start's final loss.",
    )


def training_never(records: Sequence[RunRecord]) -> Question | None:
    """Which start never learns (its loss falls by less than 1 %, or it diverges)? 'None of them' is an option."""
    if len(records) < 2:
        return None
    names = [_label(r) for r in records]
    never = [i for i, r in enumerate(records) if never_learns(r)]
    opts = (*names, "none of them: every one learns")
    right = frozenset(never) if never else frozenset({len(names)})
    truth = (
        " and ".join(names[i] for i in never) + (" never learns" if len(never) == 1 else " never learn")
        if never
        else "every start learns"
    )
    return Question(
        "Which one will never learn (its loss falls by less than 1 %)?",
        opts,
        right,
        truth,
        "Look at the flat curves in 'Loss and accuracy' (and at 'Gradients by layer' for why).",
    )


# ---------------------------------------------------------------------------------------------- phase
def phase_cell(
    sigma_w: float, depth: int, loss_vs_guess: float, diverged: bool, trained_below: float
) -> Question:
    """Will the cell (sigma_w, depth) train: final loss below `trained_below` x the guessing loss?"""
    trained = bool(not diverged and loss_vs_guess < trained_below)
    how = f"ended at {loss_vs_guess:.2f} × the loss of guessing"
    return Question(
        f"Will the network with σ_w = {sigma_w:.3g} and {depth} hidden layers train "
        f"(end below {trained_below:g} × the loss of guessing)?",
        ("yes, it trains", "no, it does not"),
        frozenset({0 if trained else 1}),
        f"it {'trains' if trained else 'does not train'}: its loss {how}" if not diverged else "it diverged",
        "Its square in the phase diagram is marked; the sentence under the pickers gives its numbers.",
    )


# -------------------------------------------------------------------------------------------- verdict
def verdict(q: Question, answer: int | None) -> str:
    """'You said …; the run says …' with right / the right option, then the reason (None: not answered)."""
    if answer is None:
        head = f"You did not answer; the run says {q.truth}."
    elif answer in q.correct:
        head = f"You said *{q.options[answer]}*: right, {q.truth}."
    else:
        want = " or ".join(f"*{q.options[i]}*" for i in sorted(q.correct))
        gap = ""
        if q.log10 is not None:
            gap = f": {orders_apart(answer, q.log10)}"
        head = f"You said *{q.options[answer]}*; {q.truth}{gap}. The answer was {want}."
    return f"{head} {q.reason}"


def orders_apart(option: int, log10: float) -> str:
    """How many orders of magnitude a measured log10 lies from what a DECADES option said, in words."""
    if math.isinf(log10):
        return "exactly 0, below every scale"
    lo, hi = DECADES[option][0], (DECADES[option - 1][0] if option > 0 else math.inf)
    said = {0: 1.0, 1: 0.0, 2: -1.0, 3: -2.0}.get(option, min(max(log10, lo + 0.5), hi - 0.5))
    if option == len(DECADES) - 1:
        said = -6.0
    n = max(1, round(abs(log10 - said)))
    return f"about {n} order{'s' if n != 1 else ''} of magnitude {'below' if log10 < said else 'above'} what you said"
