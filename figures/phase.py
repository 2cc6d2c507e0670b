"""Figures of the phase-diagram lesson: the sigma_w x depth grid of training runs with the theory over it.

Draws core.phase's tables as Plotly figures (no streamlit); its sentences are analysis.phase's.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.phase import TRAINABLE_MULTIPLE
from figures.style import apply, wrap
from i18n import N_, _
from i18n import numbers

# What the colour of a cell shows: id (shown in the page and its URL) -> (column of the grid table, label,
# colour scale, zmin, zmax). Bright = trained on every scale, so the eye goes to the trainable band.
COLOR_BY: dict[str, tuple[str, object, str, float, float]] = {
    "loss-vs-guess": ("loss_vs_guess", N_("final loss ÷ loss of guessing"), "Viridis_r", 0.0, 1.0),
    "loss-vs-start": ("loss_vs_start", N_("final loss ÷ starting loss"), "Viridis_r", 0.0, 1.0),
    "accuracy": ("final_acc", N_("final training accuracy"), "Viridis", 0.0, 1.0),
}
DIVERGED_COLOR = "#D55E00"  # vermillion: not on the Viridis scale, so "diverged" never reads as a loss value
THEORY_COLOR = "#000000"
CRITICAL_COLOR = "#E69F00"
MARGIN = dict(l=70, r=110, t=40, b=50)  # shared by both figures so their sigma_w axes line up
XI_TOP = 1000.0  # the xi axis stops here; xi is unbounded at the critical scale


def cell_edges(values: np.ndarray, log: bool) -> np.ndarray:
    """Edges around sorted cell centres: midpoints (geometric on a log axis), ends mirrored outwards."""
    v = np.log(np.asarray(values, dtype=float)) if log else np.asarray(values, dtype=float)
    if len(v) == 1:
        mids = np.array([v[0] - 0.5, v[0] + 0.5])
    else:
        inner = (v[:-1] + v[1:]) / 2
        mids = np.concatenate([[v[0] - (inner[0] - v[0])], inner, [v[-1] + (v[-1] - inner[-1])]])
    return np.exp(mids) if log else mids


def grid_matrix(grid: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sigma_w values, depth values, matrix[depth, sigma_w]) of one column of the grid table."""
    table = grid.pivot(index="depth", columns="sigma_w", values=column).sort_index().sort_index(axis=1)
    return table.columns.to_numpy(float), table.index.to_numpy(int), table.to_numpy()


def x_range(sigma_w: np.ndarray) -> list[float]:
    """The log10 x range both figures share: the outer edges of the grid's cells."""
    e = cell_edges(np.sort(np.asarray(sigma_w, dtype=float)), log=True)
    return [math.log10(e[0]), math.log10(e[-1])]


def phase_figure(
    grid: pd.DataFrame,
    theory: pd.DataFrame,
    critical: float,
    color_by: str = "loss-vs-guess",
    selected: tuple[float, int] | None = None,
    height: int = 520,
    bounded: bool = True,
) -> go.Figure:
    """The phase diagram: one coloured cell per (sigma_w, depth) run, the trainable-depth curve over it.

    Trace order (tests and the page's click handler rely on it): 0 heatmap, 1 diverged cells,
    2 clickable cell markers (customdata = sigma_w, depth, colour value), 3-4 theory curve (halo, line),
    5 critical scale, then the highlighted selection if any.
    """
    column, lazy_label, scale, zmin, zmax = COLOR_BY[color_by]
    label = str(lazy_label)
    sw, dp, z = grid_matrix(grid, column)
    div = grid_matrix(grid, "diverged")[2]
    div = div.astype(bool)
    xe, ye = cell_edges(sw, log=True), cell_edges(dp, log=False)
    top = float(ye[-1])
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=xe,
            y=ye,
            z=np.where(div, np.nan, z),
            zmin=zmin,
            zmax=zmax,
            colorscale=scale,
            colorbar=dict(
                title=dict(text=label, side="right"), thickness=14, len=0.9, x=1.02, xanchor="left"
            ),
            hoverinfo="skip",
            name=label,
        )
    )
    fig.add_trace(
        go.Heatmap(
            x=xe,
            y=ye,
            z=np.where(div, 1.0, np.nan),
            zmin=0,
            zmax=1,
            colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]],
            showscale=False,
            hoverinfo="skip",
            name=_("diverged"),
        )
    )
    xx, yy = np.meshgrid(sw, dp)
    value = np.where(div, np.nan, z)
    fig.add_trace(
        go.Scatter(
            x=xx.ravel(),
            y=yy.ravel(),
            mode="markers+text",
            text=np.where(div.ravel(), "✕", ""),
            textfont=dict(color="white", size=16),
            # invisible but clickable
            marker=dict(symbol="square", size=22, opacity=0),
            customdata=np.column_stack([xx.ravel(), yy.ravel(), value.ravel()]),
            # Plotly fills %{...} (d3 formats, the page's separators); the words are one message
            hovertemplate=_(
                "σ_w = {sigma_w}, depth {depth}<br>{label} = {value}<extra>click to open this run</extra>",
                sigma_w="%{customdata[0]:.3g}",
                depth="%{customdata[1]}",
                label=label,
                value="%{customdata[2]:.2f}",
            ),
            name="cells",
            showlegend=False,
        )
    )
    tx, ty = _theory_line(theory, sw, top)
    fig.add_trace(
        go.Scatter(
            x=tx, y=ty, mode="lines", line=dict(color="white", width=6), hoverinfo="skip", showlegend=False
        )
    )
    fig.add_trace(
        go.Scatter(
            x=tx,
            y=ty,
            mode="lines",
            line=dict(color=THEORY_COLOR, width=2.5),
            name=_("theory: trainable up to {multiple} ξ", multiple=TRAINABLE_MULTIPLE),
            hoverinfo="skip",
        )
    )
    if math.isfinite(critical):
        fig.add_trace(
            go.Scatter(
                x=[critical, critical],
                y=[float(ye[0]), top],
                mode="lines",
                line=dict(color=CRITICAL_COLOR, width=3, dash="dash"),
                name=_("critical σ_w = {critical} (χ₁ = 1)", critical=critical),
                hoverinfo="skip",
            )
        )
    else:
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=_("no critical scale"), hoverinfo="skip"))
    if selected is not None:
        fig.add_trace(
            go.Scatter(
                x=[selected[0]],
                y=[selected[1]],
                mode="markers",
                marker=dict(symbol="square-open", size=26, color="white", line=dict(width=3, color="white")),
                name=_("selected cell"),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.update_xaxes(
        type="log",
        range=x_range(sw),
        title_text=_("weight scale σ_w (weights ~ N(0, σ_w²/fan_in))"),
        showgrid=False,
        **octave_ticks(sw),
    )
    if math.isfinite(critical):
        large = _("chaotic: inputs decorrelate ▶") if bounded else _("the signal explodes ▶")
        # Each note reaches into its side margin (to 10 px from the figure's edge): on a phone the plot
        # between the axis titles and the colour bar is too narrow for both.
        notes = (
            (_("◀ ordered: the signal fades"), 0.0, "left", 10 - MARGIN["l"]),
            (large, 1.0, "right", MARGIN["r"] - 10),
        )
        for text, x, anchor, shift in notes:
            fig.add_annotation(
                text=text,
                x=x,
                xshift=shift,
                xref="paper",
                y=1.0,
                yref="paper",
                yanchor="bottom",
                xanchor=anchor,
                showarrow=False,
                font=dict(size=12, color="#555555"),
            )
    fig.update_yaxes(range=[float(ye[0]), top], title_text=_("depth (hidden layers)"), showgrid=False)
    apply(fig, height=height)
    fig.update_layout(
        margin={**MARGIN, "t": 80},
        clickmode="event+select",
        dragmode=False,
        # under the plot: above it, the legend's rows would run into the ordered/chaotic notes on a phone
        legend=dict(orientation="h", y=-0.2, yanchor="top", x=0),
    )
    return fig


def octave_ticks(sigma_w: np.ndarray) -> dict:
    """Tick marks at the grid's whole octaves (a factor 2 apart), labelled with their sigma_w."""
    sw = np.sort(np.asarray(sigma_w, dtype=float))
    centre = sw[len(sw) // 2]
    vals = [float(v) for v in sw if abs(math.log2(v / centre) - round(math.log2(v / centre))) < 1e-3]
    return dict(tickmode="array", tickvals=vals, ticktext=[numbers.num(v, 3) for v in vals])


def _theory_line(theory: pd.DataFrame, sw: np.ndarray, top: float) -> tuple[np.ndarray, np.ndarray]:
    """The trainable-depth curve within the grid's x range, clipped just above the plot where it leaves it."""
    lo, hi = (10**v for v in x_range(sw))
    t = theory[(theory["sigma_w"] >= lo) & (theory["sigma_w"] <= hi)]
    y = t["trainable_depth"].to_numpy(float).copy()
    y[np.isposinf(y) | (y > top)] = top * 1.02
    return t["sigma_w"].to_numpy(float), y


def theory_figure(theory: pd.DataFrame, critical: float, sigma_w: np.ndarray, height: int = 360) -> go.Figure:
    """chi_1 (top) and the depth scale xi (bottom) against sigma_w, on the phase diagram's x axis."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    x = theory["sigma_w"].to_numpy(float)
    chi = theory["chi1"].to_numpy(float)
    xi = theory["xi"].to_numpy(float)
    # Where q* is infinite (ReLU-like, above the critical scale) the signal explodes; xi is not drawn there.
    exploding = np.isinf(theory["q_star"].to_numpy(float))
    xi_plot = np.where(np.isnan(xi) | exploding, np.nan, np.minimum(xi, XI_TOP))
    panels = (
        (
            chi,
            _("χ₁ (gradient variance factor per layer; std ×√χ₁)"),
            "#0072B2",
            "σ_w = %{x:.3g}: χ₁ = %{y:.3g}",
        ),
        (
            xi_plot,
            _("ξ (depth scale, layers)"),
            "#009E73",
            _("σ_w = {sigma_w}: ξ = {xi} layers", sigma_w="%{x:.3g}", xi="%{y:.3g}"),
        ),
    )
    for row, (y, name, color, hover) in enumerate(panels, start=1):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                # a legend entry is one line unless broken: a phone fits about 40 characters
                name=wrap(name, 40),
                line=dict(color=color, width=2.5),
                hovertemplate=hover + "<extra></extra>",
            ),
            row=row,
            col=1,
        )
    fig.add_hline(y=1.0, line=dict(color="#777777", dash="dot", width=1), row=1, col=1)
    if math.isfinite(critical):
        for row in (1, 2):
            fig.add_trace(
                go.Scatter(
                    x=[critical, critical],
                    y=_span(chi if row == 1 else xi_plot),
                    mode="lines",
                    line=dict(color=CRITICAL_COLOR, width=2, dash="dash"),
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=row,
                col=1,
            )
    fig.update_xaxes(type="log", range=x_range(sigma_w), showgrid=False, **octave_ticks(sigma_w))
    fig.update_xaxes(title_text=_("weight scale σ_w"), row=2, col=1)
    fig.update_yaxes(type="log", title_text="χ₁", row=1, col=1, **decade_ticks(chi))
    fig.update_yaxes(type="log", title_text=_("ξ (layers)"), row=2, col=1, **decade_ticks(xi_plot))
    apply(fig, height=height)
    fig.update_layout(margin=MARGIN, legend=dict(orientation="h", y=1.04, yanchor="bottom", x=0))
    return fig


def decade_ticks(y: np.ndarray) -> dict:
    """Ticks 1, 2, 5 x 10^k over the finite positive values of y."""
    f = y[np.isfinite(y) & (y > 0)]
    if not len(f):
        return {}
    lo, hi = math.floor(math.log10(f.min())), math.ceil(math.log10(f.max()))
    mantissas = (1, 2, 5) if hi - lo <= 2 else (1,)
    vals = [
        m * 10.0**e
        for e in range(lo, hi + 1)
        for m in mantissas
        if f.min() / 1.5 <= m * 10.0**e <= f.max() * 1.5
    ]
    return dict(tickmode="array", tickvals=vals, ticktext=[numbers.num(v, 3) for v in vals])


def _span(y: np.ndarray) -> list[float]:
    """Bottom and top of finite positive values (for a vertical marker line on a log axis)."""
    f = y[np.isfinite(y) & (y > 0)]
    return [float(f.min()), float(f.max())] if len(f) else [0.1, 10.0]


CELL_TRACE = 2  # index of the clickable cell markers in phase_figure's data


def clicked_cell(state: object) -> tuple[float, int] | None:
    """(sigma_w, depth) of the clicked cell in a st.plotly_chart selection state, or None.

    Only points of the cell-marker trace (CELL_TRACE) count; the last one wins.
    """
    try:
        points = state["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    for p in reversed(list(points or [])):
        if not isinstance(p, dict) or p.get("curve_number") != CELL_TRACE:
            continue
        try:
            return float(p["x"]), int(round(float(p["y"])))
        except (KeyError, TypeError, ValueError):
            continue
    return None
