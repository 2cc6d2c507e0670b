"""The phase-diagram lesson's default experiment (DEFAULTS) and what its grid and theory say, in sentences.

Pure: core.phase's tables (pandas) in, numbers and computed sentences out (no streamlit, no plotly).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core import phase
from core.phase import TRAINABLE_MULTIPLE, TRAINED_BELOW, PhaseConfig, agreement
from i18n import N_, _
from i18n import numbers

DEFAULTS = PhaseConfig()  # the default grid: tanh, σ_b = 0, the coarse grid of 54 cells
PICK_DEPTH = 20  # the cell the page opens first: this depth, at the grid scale nearest the critical one

WIDEST = N_("Why the band is widest at the critical scale")
PREDICTS = N_("What the theory predicts: χ₁ and the depth scale ξ")


def trained(grid: pd.DataFrame) -> pd.Series:
    """Which cells trained: loss-vs-guess below TRAINED_BELOW and not diverged."""
    return (grid["loss_vs_guess"] < TRAINED_BELOW) & ~grid["diverged"].astype(bool)


def nearest_scale(grid: pd.DataFrame, critical: float) -> float:
    """The grid's sigma_w nearest (on a log scale) to `critical`."""
    sws = np.sort(grid["sigma_w"].unique())
    return float(sws[np.argmin(np.abs(np.log(sws / critical)))])


def deepest_trained(grid: pd.DataFrame, sigma_w: float) -> int | None:
    """The most hidden layers of a trained cell at this scale, or None."""
    col = grid[(grid["sigma_w"] == sigma_w) & trained(grid)]
    return None if col.empty else int(col["depth"].max())


def theory_heading(grid: pd.DataFrame, critical: float) -> str:
    """The heading over the chi_1 / xi chart: it claims the band is widest at the critical scale only if
    on this grid the deepest trained network sits at the grid scale nearest the critical one."""
    done = grid[trained(grid)]
    if math.isfinite(critical) and not done.empty:
        deepest = done.groupby("sigma_w")["depth"].max()
        near = nearest_scale(grid, critical)
        if near in deepest.index and deepest[near] >= deepest.max():
            return str(WIDEST)
    return str(PREDICTS)


def _layers(d: float) -> str:
    """A depth in layers, one decimal (the theory's limits are not whole)."""
    return numbers.decimal(d, 1)


def grid_sentences(grid: pd.DataFrame, theory_at_cells: pd.DataFrame, critical: float) -> list[str]:
    """What to look for in the phase diagram, computed from this grid and this theory."""
    n = len(grid)
    ok = trained(grid)
    values = dict(
        trained=int(ok.sum()),
        n=n,
        limit=TRAINED_BELOW,
        guess=numbers.decimal(float(grid["guess_loss"].iloc[0]), 3),
        diverged=int(grid["diverged"].sum()),
    )
    if grid["diverged"].any():
        first = _(
            "**{trained} of {n} cells trained** (loss-vs-guess below {limit}): their final training loss fell "
            "below {limit} × {guess}, where {guess} is the loss of guessing the class frequencies; "
            "**{diverged} diverged** (✕).",
            **values,
        )
    else:
        first = _(
            "**{trained} of {n} cells trained** (loss-vs-guess below {limit}): their final training loss fell "
            "below {limit} × {guess}, where {guess} is the loss of guessing the class frequencies.",
            **values,
        )
    out = [first]
    th = theory_at_cells.set_index("sigma_w")
    lo = float(np.sort(grid["sigma_w"].unique())[0])
    d_lo = deepest_trained(grid, lo)
    ordered = dict(
        sigma_w=lo,
        chi=float(th.loc[lo, "chi1"]),
        multiple=TRAINABLE_MULTIPLE,
        limit=_layers(float(th.loc[lo, "trainable_depth"])),
        depth=d_lo,
    )
    if d_lo is None:
        out.append(
            _(
                "Deep in the ordered phase, at σ_w = {sigma_w} (χ₁ = {chi}), no cell trained; the theory's limit "
                "{multiple} ξ is {limit} layers.",
                **ordered,
            )
        )
    else:
        out.append(
            _(
                "Deep in the ordered phase, at σ_w = {sigma_w} (χ₁ = {chi}), the deepest network that trained has "
                "{depth} hidden layers; the theory's limit {multiple} ξ is {limit} layers.",
                **ordered,
            )
        )
    if math.isfinite(critical):
        near = nearest_scale(grid, critical)
        d_c = deepest_trained(grid, near)
        top = int(grid["depth"].max())
        if d_c is None:
            out.append(
                _(
                    "Next to the critical scale, at σ_w = {sigma_w}, no cell trained (the grid goes to {top}).",
                    sigma_w=near,
                    top=top,
                )
            )
        else:
            out.append(
                _(
                    "Next to the critical scale, at σ_w = {sigma_w}, networks trained up to {depth} hidden layers "
                    "(the grid goes to {top}).",
                    sigma_w=near,
                    depth=d_c,
                    top=top,
                )
            )
    agree = agreement(grid, theory_at_cells)
    judged = int(agree.notna().sum())
    counts = dict(agree=int(agree.fillna(False).sum()), judged=judged, outside=n - judged)
    if judged == n:
        out.append(
            _(
                "The theory's line agrees with the experiment on **{agree} of {judged} cells**: trained below the "
                "line, not trained above it.",
                **counts,
            )
        )
    else:
        out.append(
            _(
                "The theory's line agrees with the experiment on **{agree} of {judged} cells** where the line is "
                "drawn ({outside} cells lie where q* is infinite): trained below the line, not trained above it.",
                **counts,
            )
        )
    return out


def _at_scale(row: pd.Series) -> str:
    """chi_1 and xi (or the exploding signal) at one grid scale, in one sentence."""
    if math.isinf(row["q_star"]):
        return _(
            "At σ_w = {sigma_w}, χ₁ = {chi} and the signal explodes (q* is infinite).",
            sigma_w=float(row["sigma_w"]),
            chi=float(row["chi1"]),
        )
    if not math.isfinite(row["xi"]):
        return _(
            "At σ_w = {sigma_w}, χ₁ = {chi} and ξ is unbounded.",
            sigma_w=float(row["sigma_w"]),
            chi=float(row["chi1"]),
        )
    return _(
        "At σ_w = {sigma_w}, χ₁ = {chi} and ξ = {xi} layers.",
        sigma_w=float(row["sigma_w"]),
        chi=float(row["chi1"]),
        xi=_layers(float(row["xi"])),
    )


def theory_sentences(
    theory_at_cells: pd.DataFrame, critical: float, activation: str, sigma_b: float
) -> list[str]:
    """What to look for in the chi_1 / xi chart, computed by core.theory for this activation and sigma_b."""
    t = theory_at_cells.sort_values("sigma_w")
    if math.isfinite(critical):
        parts = [
            _(
                "For {activation} with σ_b = {sigma_b}, χ₁ = 1 at **σ_w = {critical}** (σ_w² = {critical_sq}): "
                "below it the gradient's variance shrinks by the factor χ₁ per layer (its size, the std, by "
                "√χ₁), above it it grows.",
                activation=activation,
                sigma_b=sigma_b,
                critical=numbers.decimal(critical, 3),
                critical_sq=numbers.decimal(critical**2, 3),
            )
        ]
    else:
        parts = [
            _(
                "For {activation} with σ_b = {sigma_b}, χ₁ never reaches 1 on this range.",
                activation=activation,
                sigma_b=sigma_b,
            )
        ]
    parts += [_at_scale(t.iloc[0]), _at_scale(t.iloc[-1])]
    unbounded = t[np.isinf(t["xi"]) & np.isfinite(t["q_star"])]
    if not unbounded.empty:
        parts.append(
            _(
                "At σ_w = {sigma_w} ξ is unbounded: that grid scale is critical.",
                sigma_w=float(unbounded["sigma_w"].iloc[0]),
            )
        )
    finite = t[np.isfinite(t["xi"]) & np.isfinite(t["q_star"])]
    if not finite.empty:
        best = finite.loc[finite["xi"].idxmax()]
        where = dict(xi=_layers(float(best["xi"])), sigma_w=float(best["sigma_w"]))
        if unbounded.empty:
            parts.append(_("Among the grid's scales ξ is largest, {xi} layers, at σ_w = {sigma_w}.", **where))
        else:
            parts.append(_("Elsewhere on the grid ξ is largest, {xi} layers, at σ_w = {sigma_w}.", **where))
    out = [" ".join(parts)]
    exploding = t[np.isinf(t["q_star"])]
    if not exploding.empty:
        out.append(
            _(
                "From σ_w = {sigma_w} on, the theory's signal variance q* has no finite fixed point: it grows by "
                "a factor χ₁ every layer, so the activations explode and no trainable-depth line is drawn there.",
                sigma_w=float(exploding["sigma_w"].min()),
            )
        )
    return out


def cell_sentence(row: pd.Series) -> str:
    """One cell in words: its scale and depth, what happened to its loss."""
    where = dict(sigma_w=float(row["sigma_w"]), depth=int(row["depth"]))
    if row["diverged"]:
        return _(
            "σ_w = {sigma_w}, {depth} hidden layers: the loss became infinite or NaN at step {step}: the run "
            "diverged.",
            step=int(row["diverged_at"]),
            **where,
        )
    values = dict(
        start=numbers.decimal(float(row["initial_loss"]), 3),
        end=numbers.decimal(float(row["final_loss"]), 3),
        ratio=numbers.decimal(float(row["loss_vs_guess"]), 2),
        accuracy=numbers.pct(float(row["final_acc"])),
        **where,
    )
    if row["loss_vs_guess"] < TRAINED_BELOW:
        return _(
            "σ_w = {sigma_w}, {depth} hidden layers: loss {start} at the start, {end} at the end ({ratio} × the "
            "guessing loss, accuracy {accuracy}): it trained.",
            **values,
        )
    return _(
        "σ_w = {sigma_w}, {depth} hidden layers: loss {start} at the start, {end} at the end ({ratio} × the "
        "guessing loss, accuracy {accuracy}): it did not train.",
        **values,
    )


def cut_notice(asked: PhaseConfig, fitted: PhaseConfig) -> str:
    """What core.phase.fit_phase cut to keep the grid within seconds, in one sentence (empty if nothing)."""
    values = dict(
        asked=asked.steps,
        steps=fitted.steps,
        asked_width=asked.width,
        width=fitted.width,
        cells=len(phase.sigma_ws(fitted)) * len(phase.depths(fitted)),
    )
    if fitted.width != asked.width:
        return _(
            "To keep this grid within seconds: steps per cell cut from {asked} to {steps}, and width cut from "
            "{asked_width} to {width} units, because even {steps} steps were too many.",
            **values,
        )
    if fitted.steps != asked.steps:
        return _(
            "To keep this grid within seconds: steps per cell cut from {asked} to {steps} (a grid of {cells} "
            "cells of width {width} would take minutes).",
            **values,
        )
    return ""


def grid_sizes() -> dict[str, tuple[int, int]]:
    """Each grid resolution's (number of scales, number of depths)."""
    return {
        res: (
            len(phase.sigma_ws(PhaseConfig(resolution=res))),
            len(phase.depths(PhaseConfig(resolution=res))),
        )
        for res in phase.RESOLUTIONS
    }
