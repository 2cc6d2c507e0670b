"""Figures of the normalization & residuals lesson: one line per network of a part, as analysis.modern gives them.

Draws only (no streamlit): the numbers come from the records and analysis.modern, the sentences too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from analysis import modern as am
from core.modern import ModernRecord
from i18n import _

# Okabe-Ito: colour-blind safe, one colour per variant of a part (in the order the page lists them)
COLORS = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")  # told apart in greyscale too


def _layout(fig: go.Figure, **layout: object) -> go.Figure:
    """Title, axes and the shared look: the legend under the plot (at its right it squeezes a phone's plot to
    a strip), powers of ten on log axes (Plotly's default writes 100μ, 1p)."""
    fig.update_layout(**layout, legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0})
    fig.update_yaxes(exponentformat="power")
    return fig


def _finite(values: Sequence[float], positive: bool = False) -> list[float | None]:
    """Values Plotly can draw: NaN, infinities (and on a log axis 0) become gaps."""
    return [float(v) if math.isfinite(v) and (v > 0 or not positive) else None for v in values]


def _lines(
    fig: go.Figure,
    xs: Sequence[Sequence[float]],
    ys: Sequence[Sequence[float]],
    labels: Sequence[str],
    mode: str,
) -> go.Figure:
    """One line per network: colour and dash by its place in the part."""
    for x, y, label, color, dash in zip(xs, ys, labels, COLORS, DASHES):
        width = 4 if dash == DASHES[0] and mode == "lines+markers" else 2
        fig.add_trace(
            go.Scatter(
                x=list(x), y=y, mode=mode, name=label, line={"color": color, "dash": dash, "width": width}
            )
        )
    return fig


def std_figure(records: Sequence[ModernRecord], labels: Sequence[str], key: str) -> go.Figure:
    """Per-layer std of `key` at initialization, one line per network, on a log axis."""
    ys = [_finite(am.init_std(r, key), positive=True) for r in records]
    fig = _lines(go.Figure(), [range(1, len(y) + 1) for y in ys], ys, labels, "lines+markers")
    _layout(
        fig,
        title=_("Std of the activation's input per layer, at initialization"),
        xaxis_title=_("layer"),
        yaxis_title=_("std (log scale)"),
        yaxis_type="log",
    )
    return fig


def loss_figure(records: Sequence[ModernRecord], labels: Sequence[str], log: bool = False) -> go.Figure:
    """Mini-batch training loss per step, one line per network, with the chance level (log axis: a diverging
    network's loss runs to thousands before it becomes NaN)."""
    ys = [_finite(r.loss) for r in records]
    fig = _lines(go.Figure(), [range(len(y)) for y in ys], ys, labels, "lines")
    if records:
        fig.add_hline(
            y=am.chance(records[0].config), line_dash="dot", annotation_text=_("chance"), line_color="#777777"
        )
    _layout(
        fig,
        title=_("Training loss on each mini-batch (log scale)")
        if log
        else _("Training loss on each mini-batch"),
        xaxis_title=_("step"),
        yaxis_title=_("loss (log scale)") if log else _("loss"),
        yaxis_type="log" if log else "linear",
    )
    return fig


def distinct_figure(records: Sequence[ModernRecord], labels: Sequence[str]) -> go.Figure:
    """The largest number of distinct units in any hidden layer, over the training steps."""
    ys = [am.distinct_max(r).tolist() for r in records]
    fig = _lines(go.Figure(), [r.eval_steps.tolist() for r in records], ys, labels, "lines+markers")
    width = records[0].config.width if records else 1
    _layout(
        fig,
        title=_("Distinct units: the most in any hidden layer, per recorded step"),
        xaxis_title=_("step"),
        yaxis_title=_("distinct units"),
        yaxis_range=[0, width + 1],
    )
    return fig


def stream_figure(records: Sequence[ModernRecord], labels: Sequence[str]) -> go.Figure:
    """Measured std of the residual stream per block (markers) and the recursion (dashed line), log axis."""
    fig = go.Figure()
    for r, label, color in zip(records, labels, COLORS):
        x, measured, predicted = am.stream_curve(r)
        fig.add_trace(
            go.Scatter(
                x=x.tolist(),
                y=_finite(measured, positive=True),
                mode="markers",
                name=label,
                marker={"color": color},
                legendgroup=label,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x.tolist(),
                y=_finite(predicted, positive=True),
                mode="lines",
                name=_("{label}: recursion", label=label),
                line={"color": color, "dash": "dash"},
                legendgroup=label,
                showlegend=False,
            )
        )
    _layout(
        fig,
        title=_(
            "Std of the residual stream after each block, at initialization (dots: measured; dashed: the "
            "recursion)"
        ),
        xaxis_title=_("block (0 = the stem)"),
        yaxis_title=_("std (log scale)"),
        yaxis_type="log",
    )
    return fig
