"""The Training lesson's analysis: RunRecords of schemes trained side by side -> numbers and tables.

Pure (no streamlit, no plotly); the lesson's default experiment DEFAULTS; its sentences: training_sentences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core import initializers
from core.config import ExperimentConfig
from core.records import Histogram, RunRecord
from i18n import N_, _, numbers

# Four starts that tell the lesson's story: exactly zero (symmetric, never learns), near zero but too small
# (N(0, 0.01²): gradients vanish), and two scaled rules that train.
DEFAULT_SCHEMES = ("zeros", "normal", "xavier_uniform", "he_normal")
N_CHECKPOINTS = 11  # histograms at 11 steps: the step slider of the histograms
UPDATE_RATIO_RULE = 1e-3  # the rule of thumb: each step changes a weight matrix by about 1e-3 of its norm
MAX_RIDGES = 16  # layers drawn in one ridgeline; deeper nets show evenly spaced layers (the heatmap has all)
ALL_ZERO = 0.999  # a layer whose share of exact zeros is at least this counts as "exactly 0"


def record_every(steps: int) -> int:
    """Evaluate about 100 times per run (at least every 10 steps): curves stay smooth, evaluation cheap."""
    return max(10, round(steps / 100))


DEFAULTS = ExperimentConfig(
    schemes=DEFAULT_SCHEMES,
    n_checkpoints=N_CHECKPOINTS,
    record_every=record_every(ExperimentConfig().steps),
)

# Headers of the results table (the page's table and its CSV).
COL_SCHEME = N_("scheme")
COL_LABEL = N_("label")
COL_TRAIN_LOSS = N_("final train loss")
COL_TEST_LOSS = N_("final test loss")
COL_TRAIN_ACC = N_("final train accuracy")
COL_TEST_ACC = N_("final test accuracy")
COL_DIVERGED = N_("diverged at step")
COL_SECONDS = N_("train seconds")
# Per-layer statistics in the every-step CSV: record key -> header (with the layer number).
STEP_STATS = {
    "grad_norm": N_("gradient norm layer {n}"),
    "update_ratio": N_("update ratio layer {n}"),
    "weight_std": N_("weight std layer {n}"),
    "act_std": N_("activation std layer {n}"),
}


# ---------------------------------------------------------------------------------------------- numbers


def run_label(record: RunRecord) -> str:
    """The scheme's label plus the parameters that define it ("Normal (fixed σ), σ = 0.01")."""
    return initializers.run_label(record.scheme, record.config)


def fmt(x: float | None) -> str:
    """A loss or ratio as a student reads it: 1.10, 0.0213, 3.1×10⁻⁵, 1,234; "not a number" if not finite."""
    if x is None or not math.isfinite(x):
        return numbers.num(math.nan)
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 1e6 or ax < 1e-3:
        return numbers.num(x, 2)
    if ax >= 100:
        return numbers.decimal(x, 0)
    return numbers.num(x, 3) if ax < 1 else numbers.decimal(x, 2)


def fmt_pct(x: float) -> str:
    return numbers.pct(x, 1)


def layer_name(j: int, n_layers: int) -> str:
    """Column j of a per-layer array: 'layer j+1', the last one is the output layer."""
    return _("output layer") if j == n_layers - 1 else _("layer {n}", n=j + 1)


def n_classes(records: Sequence[RunRecord]) -> int:
    return int(records[0].confusion.shape[0])


def chance_loss(records: Sequence[RunRecord]) -> float:
    """ln k: the loss of predicting every class with probability 1/k."""
    return math.log(n_classes(records))


def last_finite(a: np.ndarray) -> tuple[int, float] | None:
    """(index, value) of the last finite entry of a 1-D array, or None."""
    a = np.asarray(a, dtype=np.float64)
    idx = np.flatnonzero(np.isfinite(a))
    if idx.size == 0:
        return None
    return int(idx[-1]), float(a[idx[-1]])


def final_value(record: RunRecord, name: str) -> float:
    """The metric at the last evaluation (train_loss, test_loss, train_acc, test_acc); NaN if it diverged."""
    if record.diverged_at is not None or len(getattr(record, name)) == 0:
        return math.nan
    return float(getattr(record, name)[-1])


def steps_to_target(record: RunRecord, target_loss: float) -> int | None:
    """First evaluated step at which the loss on the whole train split is <= target_loss, else None."""
    ok = np.flatnonzero(np.asarray(record.train_loss) <= target_loss)
    return int(record.eval_steps[ok[0]]) if ok.size else None


def default_target(k: int) -> float:
    """The results table's default target loss: half the guessing loss ln k, to 2 significant digits."""
    x = 0.5 * math.log(k)
    return round(x, 1 - math.floor(math.log10(x)))


def hist_fractions(hist: Histogram, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At checkpoint c: bin centres (B,), fraction of entries per bin (L+1, B), fraction of exact zeros (L+1,)."""
    counts = np.asarray(hist.counts[c], dtype=np.float64)
    zeros = np.asarray(hist.zeros[c], dtype=np.float64)
    total = counts.sum(axis=1) + zeros
    total[total == 0] = 1.0
    centres = 0.5 * (hist.edges[:-1] + hist.edges[1:])
    return centres, counts / total[:, None], zeros / total


def hist_median(hist: Histogram, c: int) -> np.ndarray:
    """Per layer, the median of the binned quantity at checkpoint c; NaN for a layer with no entries.

    For log10abs histograms (gradients) it is the median |value| of the entries that are not exactly 0, in
    the quantity's units (10 ** bin centre): deep ReLU layers have many exact zeros (units dead on the whole
    batch), and the size of the gradients that do flow is what says whether a layer learns.
    """
    centres, frac, _zero = hist_fractions(hist, c)
    out = np.full(frac.shape[0], np.nan)
    for j in range(frac.shape[0]):
        cum = np.cumsum(frac[j])
        if cum[-1] <= 0:
            continue
        k = int(np.searchsorted(cum, 0.5 * cum[-1]))
        centre = centres[min(k, len(centres) - 1)]
        out[j] = 10.0**centre if hist.transform == "log10abs" else centre
    return out


def hist_spread(hist: Histogram, c: int) -> np.ndarray:
    """Per layer, the standard deviation of a linearly binned quantity at checkpoint c (from bin centres)."""
    centres, frac, zero_frac = hist_fractions(hist, c)
    w = np.concatenate([frac, zero_frac[:, None]], axis=1)
    x = np.concatenate([centres, [0.0]])
    mean = (w * x).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-300)
    var = (w * (x[None, :] - mean[:, None]) ** 2).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-300)
    return np.sqrt(var)


def ridge_layers(n_layers: int, max_ridges: int = MAX_RIDGES) -> list[int]:
    """Which layer columns a ridgeline draws: all, or evenly spaced with the first and the output layer."""
    if n_layers <= max_ridges:
        return list(range(n_layers))
    return sorted({int(round(x)) for x in np.linspace(0, n_layers - 1, max_ridges)})


def loss_axis_range(records: Sequence[RunRecord]) -> tuple[float, float]:
    """(low, high) of the loss axis: every finite loss of the runs that did not diverge, and chance.

    A diverged run's loss can reach 1e170 on its way to NaN; drawn to scale it would flatten every other
    curve, so it does not widen the axis (its marker sits at the top edge and the page says so).
    """
    calm = [r for r in records if r.diverged_at is None] or list(records)
    vals = [chance_loss(records)]
    for r in calm:
        for a in (r.loss, r.test_loss):
            a = np.asarray(a, dtype=np.float64)
            a = a[np.isfinite(a) & (a > 0)]
            if a.size:
                vals += [float(a.min()), float(a.max())]
    return min(vals) / 1.3, max(vals) * 1.08


def log_grad_norms(records: Sequence[RunRecord]) -> tuple[list[np.ndarray], float, float]:
    """log10 of every layer's gradient norm per scheme (R, L+1; exact zeros and non-finite: NaN), and the
    (low, high) of all of them together: one colour scale for every scheme."""
    logs = []
    for r in records:
        g = np.asarray(r.layer_stats["grad_norm"], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log10(g)
        z[~np.isfinite(z)] = np.nan
        logs.append(z)
    allz = np.concatenate([z.ravel() for z in logs])
    allz = allz[np.isfinite(allz)]
    lo, hi = (float(allz.min()), float(allz.max())) if allz.size else (-1.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return logs, lo, hi


def best_and_worst(records: Sequence[RunRecord]) -> tuple[RunRecord, RunRecord]:
    """The schemes with the highest and the lowest final test accuracy (a diverged run counts as 0)."""

    def acc(r: RunRecord) -> float:
        a = final_value(r, "test_acc")
        return a if math.isfinite(a) else 0.0

    ranked = sorted(records, key=acc)
    return ranked[-1], ranked[0]


# ----------------------------------------------------------------------------------------------- tables


def reach_column(target_loss: float) -> str:
    return _("steps to train loss ≤ {target}", target=numbers.num(target_loss, 3))


def results_table(records: Sequence[RunRecord], target_loss: float) -> pd.DataFrame:
    """One row per scheme: final losses and accuracies, steps to reach `target_loss`, divergence step.

    An empty cell would be ambiguous, so "not reached" and "no" are written out.
    """
    rows = []
    for r in records:
        reached = steps_to_target(r, target_loss)
        rows.append(
            {
                str(COL_SCHEME): r.scheme,
                str(COL_LABEL): run_label(r),
                str(COL_TRAIN_LOSS): final_value(r, "train_loss"),
                str(COL_TEST_LOSS): final_value(r, "test_loss"),
                str(COL_TRAIN_ACC): final_value(r, "train_acc"),
                str(COL_TEST_ACC): final_value(r, "test_acc"),
                reach_column(target_loss): _("not reached") if reached is None else str(reached),
                str(COL_DIVERGED): _("no") if r.diverged_at is None else str(r.diverged_at),
                str(COL_SECONDS): r.seconds,
            }
        )
    return pd.DataFrame(rows)


def per_step_table(records: Sequence[RunRecord]) -> pd.DataFrame:
    """Long table of every step of every scheme: batch loss, the evaluations and per-layer statistics.

    Columns that are recorded every `record_every` steps are empty in between.
    """
    step = _("step")
    frames = []
    for r in records:
        n = len(r.loss)
        steps = np.arange(n + 1)  # the evaluations include the last step (after the last update)
        batch = np.full(n + 1, np.nan)
        batch[:n] = r.loss
        df = pd.DataFrame({str(COL_SCHEME): r.scheme, step: steps, _("batch loss"): batch})
        ev = pd.DataFrame(
            {
                step: np.asarray(r.eval_steps),
                _("train loss"): r.train_loss,
                _("test loss"): r.test_loss,
                _("train accuracy"): r.train_acc,
                _("test accuracy"): r.test_acc,
            }
        )
        stats = {step: np.asarray(r.stat_steps)}
        for key, header in STEP_STATS.items():
            arr = np.asarray(r.layer_stats[key])
            for j in range(arr.shape[1]):
                stats[_(header.message, n=j + 1)] = arr[:, j]
        df = df.merge(ev, on=step, how="left").merge(pd.DataFrame(stats), on=step, how="left")
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
