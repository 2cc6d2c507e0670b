"""Predict first: one question per lesson about the run on the page, its options, and the right one from the run.

Every right answer is computed from the records (never written by hand); `verdict` says in words how an answer
compares with what the run measured and which chart shows it.
"""

# Prediction before demonstration: Crouch, Fagen, Callan & Mazur (2004), Am. J. Phys. 72, 835;
# Miller, Lasry, Chu & Mazur (2013), Phys. Rev. ST Phys. Educ. Res. 9, 020113.
# The texts are whole translatable sentences (i18n, streamlit-free): the one core module with words, as the
# question and its right answer are one fact.

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from i18n import N_, _, ngettext
from i18n import numbers

# Learned less than this share of its initial loss: "never learns" (or it diverged).
LEARNED_SHARE = 0.01
# The log scale of the Depth questions: (lowest log10 of the ratio, the option's words), highest first.
# A ratio belongs to the first option whose lower end it reaches (the ends are half-open: 10^-0.5 is "1x").
DECADES: tuple[tuple[float, Any], ...] = (
    (0.5, N_("10 × or more (it grows)")),
    (-0.5, N_("about the same (1 ×)")),
    (-1.5, N_("about 10 %")),
    (-2.5, N_("about 1 %")),
    (-6.5, N_("between a millionth and 0.1 %")),
    (-math.inf, N_("less than a millionth (or exactly 0)")),
)


@dataclass(frozen=True)
class Question:
    """One question: options, the indices of the right ones, the measured truth and where to see it."""

    prompt: str
    options: tuple[str, ...]
    correct: frozenset[int]  # several when options tie (two schemes end equal)
    truth: str  # what the run measured, one sentence ("The signal's std is 1.7×10⁻¹² of the input's.")
    reason: str  # one sentence pointing at the chart that shows it
    log10: float | None = None  # the measured ratio's log10, for the DECADES questions
    basis: str = ""  # the question and its measured answer without words: the same in every language

    @property
    def key(self) -> str:
        """A short id: a new run (or another question) asks anew; switching the language does not."""
        text = self.basis or "|".join((self.prompt, *self.options, self.truth))
        return hashlib.sha1(text.encode()).hexdigest()[:10]


def ratio_text(x: float) -> str:
    """A measured ratio in a sentence: 1.7×10⁻¹² or 0.012 (i18n.numbers, 2 significant digits)."""
    return numbers.num(x, 2)


def decade(ratio: float) -> int:
    """The index into DECADES of a ratio (0 or negative: the last option)."""
    lg = math.log10(ratio) if ratio > 0 else -math.inf
    return next(i for i, (lo, _w) in enumerate(DECADES) if lg >= lo)


def _any_of(items: Sequence[str]) -> str:
    """'a', 'a or b', 'a, b or c' in the session's language."""
    items = list(items)
    if len(items) == 1:
        return items[0]
    return _("{first} or {last}", first=", ".join(items[:-1]), last=items[-1])


def _all_of(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c' in the session's language."""
    items = list(items)
    if len(items) == 1:
        return items[0]
    return _("{first} and {last}", first=", ".join(items[:-1]), last=items[-1])


# ------------------------------------------------------------------------------------------- symmetry
def _distinct_options(K: int) -> tuple[str, ...]:
    return (
        _("1: all {K} units are still copies of one", K=K),
        _("a few (2 to {K1})", K1=K - 1),
        _("all {K}: every unit different", K=K),
    )


def _distinct_option(n: int, K: int) -> int:
    return 0 if n <= 1 else 2 if n >= K else 1


def symmetry(record: Any) -> Question | None:
    """After the run's last recorded step: how many distinct units does hidden layer 1 have?"""
    if not len(record.stat_steps) or "distinct" not in record.symmetry:
        return None
    K = int(record.sizes[1])
    step = int(record.stat_steps[-1])
    n = int(round(float(record.symmetry["distinct"][-1, 0])))
    # "1 of its 16 units is different" read as one unit standing out when all 16 were copies: the count is of
    # different kinds of unit, so the sentence says how many the layer has, and what one means.
    if record.diverged_at is not None:
        truth = ngettext(
            "Hidden layer 1 has {n} distinct unit of {K}: all of them are still copies of one (training "
            "stopped early; this is step {step}).",
            "Hidden layer 1 has {n} distinct units of {K} (training stopped early; this is step {step}).",
            n,
            K=K,
            step=step,
        )
    else:
        truth = ngettext(
            "Hidden layer 1 has {n} distinct unit of {K}: all of them are still copies of one.",
            "Hidden layer 1 has {n} distinct units of {K}.",
            n,
            K=K,
        )
    return Question(
        _(
            "After {step} steps, how many distinct units will hidden layer 1 have (of its {K})?",
            step=step,
            K=K,
        ),
        _distinct_options(K),
        frozenset({_distinct_option(n, K)}),
        truth,
        _("The chart 'Are the units still copies of each other?' counts them at every step."),
        basis=f"symmetry|{K}|{step}|{n}",
    )


# ---------------------------------------------------------------------------------------------- depth
def _decade_question(prompt: str, ratio: float, truth: str, reason: str, basis: str) -> Question:
    return Question(
        prompt,
        tuple(str(w) for _lo, w in DECADES),
        frozenset({decade(ratio)}),
        truth,
        reason,
        math.log10(ratio) if ratio > 0 else -math.inf,
        f"{basis}|{ratio!r}",
    )


def depth_signal(record: Any, input_std: float) -> Question | None:
    """At the last hidden layer, at initialization: the std of the signal relative to the input's."""
    if not len(record.stat_steps) or input_std <= 0:
        return None
    L = len(record.sizes) - 2
    ratio = float(record.layer_stats["act_std"][0, L - 1]) / input_std
    if not math.isfinite(ratio):
        return None
    return _decade_question(
        _(
            "At initialization, the signal's spread (std) at hidden layer {L} will be about … of the input's:",
            L=L,
        ),
        ratio,
        _("The signal's std at hidden layer {L} is {ratio} of the input's.", L=L, ratio=ratio_text(ratio)),
        _("The chart 'Standard deviation, layer by layer' shows the signal at every layer at step 0."),
        f"signal|{L}",
    )


def depth_gradient(record: Any) -> Question | None:
    """At initialization: the std of dLoss/dz at hidden layer 1 relative to that at the output."""
    if not len(record.stat_steps):
        return None
    b = record.layer_stats["backprop_std"][0]
    L = len(record.sizes) - 2
    if not (b[L] > 0 and math.isfinite(b[L]) and math.isfinite(b[0])):
        return None
    ratio = float(b[0] / b[L])
    return _decade_question(
        _("… and the gradient dLoss/dz at hidden layer 1, relative to the gradient at the output:"),
        ratio,
        _("The gradient's std at hidden layer 1 is {ratio} of the output's.", ratio=ratio_text(ratio)),
        _("The gradient's line in 'Standard deviation, layer by layer' shows it at every layer."),
        "gradient",
    )


# ------------------------------------------------------------------------------------------- training
def _label(r: Any) -> str:
    from core.initializers import SCHEMES

    return str(SCHEMES[r.scheme].label)


def final_loss(r: Any) -> float:
    """The whole-train-split loss at the last finite recorded step; inf if the run diverged."""
    if r.diverged_at is not None or not len(r.train_loss):
        return math.inf
    return float(r.train_loss[-1])


def never_learns(r: Any) -> bool:
    """Diverged, or its train loss fell by less than LEARNED_SHARE of where it started."""
    if r.diverged_at is not None or len(r.train_loss) < 2:
        return True
    return not float(r.train_loss[-1]) <= (1.0 - LEARNED_SHARE) * float(r.train_loss[0])


def _lowest(
    records: Sequence[Any], names: Sequence[str], prompt: str, reason: str, kind: str
) -> Question | None:
    """Which of `records` ends with the lowest whole-train-split loss (ties: every tied one is right)?"""
    if len(records) < 2:
        return None
    losses = np.array([final_loss(r) for r in records])
    if not np.isfinite(losses).any():
        return None
    best = float(losses.min())
    right = frozenset(int(i) for i in np.flatnonzero(losses <= best * (1 + 1e-9)))
    winners = [names[i] for i in sorted(right)]
    truth = ngettext(
        "{names} ends lowest, at a loss of {loss}.", "{names} end lowest, at a loss of {loss}.", len(winners),
        names=_all_of(winners), loss=numbers.num(best, 4),
    )  # fmt: skip
    truth = truth[:1].upper() + truth[1:]  # a sentence may start with a lower-case label ("residual ...")
    return Question(prompt, tuple(names), right, truth, reason, basis=f"{kind}|{names}|{losses.tolist()}")


def training_lowest(records: Sequence[Any]) -> Question | None:
    """Which start ends with the lowest train loss (ties: every tied start is right)?"""
    return _lowest(
        records,
        [_label(r) for r in records],
        _("Which of these starts will end with the lowest training loss?"),
        _("The loss curves in 'Loss and accuracy' and the table 'Results' show every start's final loss."),
        "lowest",
    )


def training_never(records: Sequence[Any]) -> Question | None:
    """Which start never learns (its loss falls by less than 1 %, or it diverges)? 'None of them' is an option."""
    if len(records) < 2:
        return None
    names = [_label(r) for r in records]
    never = [i for i, r in enumerate(records) if never_learns(r)]
    opts = (*names, _("none of them: every one learns"))
    right = frozenset(never) if never else frozenset({len(names)})
    if never:
        truth = ngettext(
            "{names} never learns.",
            "{names} never learn.",
            len(never),
            names=_all_of([names[i] for i in never]),
        )
    else:
        truth = _("Every start learns.")
    return Question(
        _("Which one will never learn (its loss falls by less than 1 %)?"),
        opts,
        right,
        truth,
        _("Look at the flat curves in 'Loss and accuracy' (and at 'Gradients by layer' for why)."),
        basis=f"never|{names}|{sorted(never)}",
    )


# ---------------------------------------------------------------------------------------------- phase
def phase_cell(
    sigma_w: float, depth: int, loss_vs_guess: float, diverged: bool, trained_below: float
) -> Question:
    """Will the cell (sigma_w, depth) train: final loss below `trained_below` x the guessing loss?"""
    trained = bool(not diverged and loss_vs_guess < trained_below)
    ratio = numbers.num(loss_vs_guess, 2)
    if diverged:
        truth = _("It diverged.")
    elif trained:
        truth = _("It trains: its loss ended at {ratio} × the loss of guessing.", ratio=ratio)
    else:
        truth = _("It does not train: its loss ended at {ratio} × the loss of guessing.", ratio=ratio)
    return Question(
        _(
            "Will the network with σ_w = {sigma_w} and {depth} hidden layers train (end below {below} × the "
            "loss of guessing)?",
            sigma_w=numbers.num(sigma_w, 3),
            depth=depth,
            below=numbers.num(trained_below, 3),
        ),
        (_("yes, it trains"), _("no, it does not")),
        frozenset({0 if trained else 1}),
        truth,
        _("Its square in the phase diagram is marked; the sentence under the pickers gives its numbers."),
        basis=f"phase|{sigma_w!r}|{depth}|{loss_vs_guess!r}|{diverged}|{trained_below!r}",
    )


# ------------------------------------------------------------------------- normalization and residuals
def modern_symmetry(records: Sequence[Any], labels: Sequence[str]) -> Question | None:
    """The constant start with BatchNorm (core.modern records): after its last recorded step, how many distinct
    units has its most diverse hidden layer?"""
    batch = [(r, lab) for r, lab in zip(records, labels) if r.config.norm == "batch"]
    if not batch or not len(batch[0][0].eval_steps):
        return None
    r = batch[0][0]
    K, step = int(r.config.width), int(r.eval_steps[-1])
    n = int(np.nanmax(r.layer_stats["distinct"][-1]))
    return Question(
        _(
            "Every weight starts at the same constant, with BatchNorm after every linear layer. After {step} "
            "steps, how many distinct units will the most varied hidden layer have (of its {K})?",
            step=step,
            K=K,
        ),
        _distinct_options(K),
        frozenset({_distinct_option(n, K)}),
        ngettext(
            "With BatchNorm, the most varied hidden layer has {n} distinct unit of {K} after {step} steps.",
            "With BatchNorm, the most varied hidden layer has {n} distinct units of {K} after {step} steps.",
            n,
            K=K,
            step=step,
        ),
        _(
            "The chart in part 2, 'Normalization does not break symmetry', counts them at every recorded step."
        ),
        basis=f"modern-symmetry|{K}|{step}|{n}",
    )


def modern_race(records: Sequence[Any], labels: Sequence[str]) -> Question | None:
    """The race (core.modern records): which network ends with the lowest whole-train-split loss (evaluation
    mode; a diverged one never)?"""
    if not records:
        return None
    c = records[0].config
    return _lowest(
        records,
        [str(lab) for lab in labels],
        _(
            "{depth} He-initialized ReLU layers, trained {steps} steps with plain SGD: which network will end "
            "with the lowest training loss?",
            depth=c.depth,
            steps=c.steps,
        ),
        _("The loss curves of part 4, 'The race', show every network's loss at every step."),
        "modern-race",
    )


# -------------------------------------------------------------------------------------------- verdict
def verdict(q: Question, answer: int | None) -> str:
    """'You said …: right / but …', what the run measured, then the reason (None: not answered)."""
    if answer is None:
        head = _("You did not answer. {truth}", truth=q.truth)
    elif answer in q.correct:
        head = _("You said *{answer}*: right. {truth}", answer=q.options[answer], truth=q.truth)
    else:
        want = _any_of([f"*{q.options[i]}*" for i in sorted(q.correct)])
        head = _(
            "You said *{answer}*, but the answer was {want}. {truth}",
            answer=q.options[answer],
            want=want,
            truth=q.truth,
        )
        if q.log10 is not None:
            head += " " + orders_apart(answer, q.log10)
    return f"{head} {q.reason}"


def orders_apart(option: int, log10: float) -> str:
    """How many orders of magnitude a measured log10 lies from what a DECADES option said, in a sentence."""
    if math.isinf(log10):
        return _("It is exactly 0, below every scale.")
    lo, hi = DECADES[option][0], (DECADES[option - 1][0] if option > 0 else math.inf)
    said = {0: 1.0, 1: 0.0, 2: -1.0, 3: -2.0}.get(option, min(max(log10, lo + 0.5), hi - 0.5))
    if option == len(DECADES) - 1:
        said = -6.0
    n = max(1, round(abs(log10 - said)))
    if log10 < said:
        return ngettext(
            "That is about {n} order of magnitude below what you said.",
            "That is about {n} orders of magnitude below what you said.",
            n,
        )
    return ngettext(
        "That is about {n} order of magnitude above what you said.",
        "That is about {n} orders of magnitude above what you said.",
        n,
    )
