"""Figures of the Depth lesson: how the signal and the gradient travel through layers, drawn.

Only drawing: RunRecord and what analysis.depth computes from it in, plotly Figure out; no streamlit.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis import depth as ad
from core.records import Histogram, RunRecord
from i18n import N_, _

# Above this many layers the histograms are drawn as one heatmap (layer x value) instead of a ridgeline.
RIDGELINE_MAX_LAYERS = 12
# Ridge height as a share of the spacing between two layers.
RIDGE_HEIGHT = 0.9
# Each histogram's title, by the record's histogram kind.
HIST_TITLES = {
    "act": N_("activations h, step {step}"),
    "pre": N_("pre-activations z, step {step}"),
    "grad": N_("gradients ∂loss/∂W, step {step}"),
    "weight": N_("weights W, step {step}"),
}


def _value_title(hist: Histogram) -> str:
    return _("log₁₀|value|") if hist.transform == "log10abs" else _("value")


def ridge_outline(edges: np.ndarray, heights: np.ndarray, base: float) -> tuple[np.ndarray, np.ndarray]:
    """The closed step outline of one layer's bars: x along the bin edges, y = base + height, back to base.

    Point 2b + 1 and 2b + 2 are the top corners of bin b; the first and last point sit on the base line.
    """
    x = np.concatenate([[edges[0]], np.repeat(edges, 2)[1:-1], [edges[-1]]])
    y = base + np.concatenate([[0.0], np.repeat(heights, 2), [0.0]])
    return x, y


def histogram_ridgeline(record: RunRecord, kind: str, c: int, color: str = "#0072B2") -> go.Figure:
    """One ridge per layer (layer 1 at the top) over the shared bin edges of `record.hists[kind]`.

    Each ridge is one filled step outline (one SVG path, not one per bar: a page of bars took the browser
    seconds to draw). Heights are the share of the layer's entries in each bin, scaled so the tallest bin
    of each layer is RIDGE_HEIGHT; each corner point carries its bin's centre and unscaled share in
    `customdata` (and the hover text).
    """
    hist = record.hists[kind]
    n = ad.hist_layers(record, kind)
    frac, _totals = ad.hist_fractions(hist, c, n)
    edges = np.asarray(hist.edges, dtype=float)
    centers = (edges[:-1] + edges[1:]) / 2
    names = ad.layer_names(n, with_output=kind in ("grad", "weight"))
    fig = go.Figure()
    for j in range(n):
        peak = frac[j].max()
        scale = RIDGE_HEIGHT / peak if peak > 0 else 0.0
        base = float(n - 1 - j)  # layer 1 on top
        x, y = ridge_outline(edges, frac[j] * scale, base)
        bins = np.concatenate([[0], np.repeat(np.arange(len(centers)), 2), [len(centers) - 1]])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                customdata=np.column_stack([centers[bins], frac[j][bins]]),
                mode="lines",
                fill="toself",
                fillcolor=color,
                opacity=0.85,
                line={"color": color, "width": 1},
                name=names[j],
                showlegend=False,
                hoveron="points",
                hovertemplate=_(
                    "{layer}<br>%{{customdata[0]:.3g}}: %{{customdata[1]:.1%}} of entries", layer=names[j]
                )
                + "<extra></extra>",
            )
        )
    fig.update_layout(
        title=_(HIST_TITLES[kind].message, step=int(record.hist_steps[c])),
        height=max(260, 34 * n + 90),
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
    )
    fig.update_yaxes(
        tickvals=[n - 1 - j + RIDGE_HEIGHT / 2 for j in range(n)],
        ticktext=names,
        range=[-0.1, n + 0.05],
        showgrid=False,
        zeroline=False,
    )
    fig.update_xaxes(title=_value_title(hist), range=[edges[0], edges[-1]])
    return fig


def histogram_heatmap(record: RunRecord, kind: str, c: int) -> go.Figure:
    """Overview for deep nets: layer (rows, layer 1 at the top) x bin, colour = share of the layer's entries."""
    hist = record.hists[kind]
    n = ad.hist_layers(record, kind)
    frac, _totals = ad.hist_fractions(hist, c, n)
    edges = np.asarray(hist.edges, dtype=float)
    names = ad.layer_names(n, with_output=kind in ("grad", "weight"))
    fig = go.Figure(
        go.Heatmap(
            z=frac,
            x=(edges[:-1] + edges[1:]) / 2,
            y=names,
            colorscale="Viridis",
            zmin=0,
            colorbar={"title": _("share"), "tickformat": ".0%"},
            hovertemplate=_("%{y}<br>%{x:.3g}: %{z:.1%} of entries") + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=_(HIST_TITLES[kind].message, step=int(record.hist_steps[c])),
        height=max(300, 12 * n + 120),
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=_value_title(hist))
    return fig


def histogram_figure(record: RunRecord, kind: str, c: int, color: str = "#0072B2") -> go.Figure:
    """Ridgeline for up to RIDGELINE_MAX_LAYERS layers, heatmap overview above."""
    if ad.hist_layers(record, kind) <= RIDGELINE_MAX_LAYERS:
        return histogram_ridgeline(record, kind, c, color)
    return histogram_heatmap(record, kind, c)


def log_activation_heatmap(hist: Histogram, depth: int, c: int, step: int) -> go.Figure:
    """Overview at checkpoint c (step `step`): hidden layer (rows, layer 1 at the top) x log10|h|, colour = share.

    `hist` is the record's "act_log" histogram: on log10|h| a layer 1e-12 the size of another keeps its shape.
    """
    frac, _totals = ad.hist_fractions(hist, c, depth)
    edges = np.asarray(hist.edges, dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=frac,
            x=(edges[:-1] + edges[1:]) / 2,
            y=ad.layer_names(depth, with_output=False),
            colorscale="Viridis",
            zmin=0,
            colorbar={"title": _("share"), "tickformat": ".0%"},
            hovertemplate=_("%{y}<br>|h| ≈ 10^%{x:.2f}: %{z:.1%} of entries") + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=_("activations at initialization, log₁₀|h|")
        if step == 0
        else _("activations at step {step}, log₁₀|h|", step=step),
        height=max(260, 14 * depth + 120),
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=_("log₁₀|h|   (−3 means |h| ≈ 0.001)"))
    return fig


def _positive(a: np.ndarray) -> list[float | None]:
    """Values for a log axis: non-positive and non-finite entries become gaps."""
    return [float(v) if np.isfinite(v) and v > 0 else None for v in np.asarray(a, dtype=float)]


def std_profile(
    record: RunRecord,
    step: int,
    prediction: ad.Prediction | None,
    input_std: float,
    color: str = "#0072B2",
) -> go.Figure:
    """Std per layer on a log axis: forward (activations) left, backward (∂loss/∂z) right.

    Measured at initialization (markers), at `step` (line, if > 0) and the mean-field prediction (dashed).
    Layer 0 of the forward panel is the input.
    """
    L = len(record.sizes) - 2
    i0, i = ad.stat_index(record, 0), ad.stat_index(record, step)
    act, grad = record.layer_stats["act_std"], record.layer_stats["backprop_std"]
    x_act = list(range(L + 1))
    x_grad = list(range(1, L + 2))
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(_("forward: activations h"), _("backward: gradient ∂loss/∂z")),
        horizontal_spacing=0.1,
    )
    fwd0 = np.concatenate([[input_std], act[i0, :L]])
    fig.add_trace(
        go.Scatter(
            x=x_act,
            y=_positive(fwd0),
            mode="markers",
            name=_("measured at init"),
            marker={"color": color, "size": 8},
            legendgroup="init",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x_grad,
            y=_positive(grad[i0]),
            mode="markers",
            name=_("measured at init"),
            marker={"color": color, "size": 8},
            legendgroup="init",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    if prediction is not None:
        fig.add_trace(
            go.Scatter(
                x=x_act,
                y=_positive(np.concatenate([[input_std], prediction.act_std])),
                mode="lines",
                name=_("mean-field prediction"),
                line={"color": "#444", "dash": "dash"},
                legendgroup="theory",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=x_grad,
                y=_positive(prediction.grad_std),
                mode="lines",
                name=_("mean-field prediction"),
                line={"color": "#444", "dash": "dash"},
                legendgroup="theory",
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    if int(record.stat_steps[i]) > 0:
        s = int(record.stat_steps[i])
        fig.add_trace(
            go.Scatter(
                x=x_act,
                y=_positive(np.concatenate([[input_std], act[i, :L]])),
                mode="lines+markers",
                name=_("measured at step {step}", step=s),
                line={"color": color},
                marker={"symbol": "diamond"},
                legendgroup="step",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=x_grad,
                y=_positive(grad[i]),
                mode="lines+markers",
                name=_("measured at step {step}", step=s),
                line={"color": color},
                marker={"symbol": "diamond"},
                legendgroup="step",
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_xaxes(title=_("layer (0 = input)"), row=1, col=1)
    fig.update_xaxes(title=_("layer ({layer} = output)", layer=L + 1), row=1, col=2)
    fig.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 40, "b": 100},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
    )
    return fig


def saturation_figure(record: RunRecord, step: int, color: str = "#0072B2") -> go.Figure:
    """Bars per hidden layer: the share of saturated (tanh, sigmoid) or dead (ReLU) units."""
    health = ad.unit_health(record, step)
    L = len(record.sizes) - 2
    fig = go.Figure()
    if health is None:
        fig.add_annotation(
            text=_("{activation} units neither saturate nor die", activation=record.config.activation),
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
    else:
        name, values = health
        if name == "saturated":
            hover = _("layer %{x}: %{y:.1%} |h| > 0.99 (saturated)")
            y_title = _("share saturated")
        else:
            hover = _("layer %{x}: %{y:.1%} 0 on every example (dead)")
            y_title = _("share dead")
        fig.add_trace(
            go.Bar(
                x=list(range(1, L + 1)),
                y=values,
                marker={"color": color},
                hovertemplate=hover + "<extra></extra>",
            )
        )
        fig.update_yaxes(range=[0, 1], tickformat=".0%", title=y_title)
        fig.update_xaxes(title=_("layer"))
    s = int(record.stat_steps[ad.stat_index(record, step)])
    fig.update_layout(
        title=_("dead units per layer at step {step}", step=s)
        if health and health[0] == "dead"
        else _("saturated units per layer at step {step}", step=s),
        height=260,
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
    )
    return fig


def chart_payload_bytes(figs: list[go.Figure]) -> int:
    """Total size of the figures' JSON, what the browser receives."""
    return sum(len(f.to_json()) for f in figs)
