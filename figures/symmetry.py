"""Figures of the Symmetry lesson: a symmetric start beside a small random one, drawn from analysis.symmetry.

Only drawing: every number comes from the records or analysis.symmetry, every text through i18n.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis import symmetry as sym
from analysis.symmetry import Panel
from core.records import DataSplit
from figures.training import CLASS_COLORS, POINT_COLORS  # one colour per class in every lesson
from figures import style
from i18n import _

LAYER_DASHES = ("solid", "dash", "dot", "dashdot")


def loss_figure(panels: Sequence[Panel], baseline: float | None = None) -> go.Figure:
    """Train loss (whole train split) over the steps of every panel; a dashed line at `baseline`."""
    fig = go.Figure()
    hover = _("step %{x}<br>train loss %{y:.4f}")
    for p in panels:
        fig.add_trace(
            go.Scatter(
                x=np.asarray(p.record.eval_steps),
                y=np.asarray(p.record.train_loss, dtype=np.float64),
                mode="lines",
                name=p.label,
                line={"color": p.color, "width": 2.5},
                hovertemplate=f"{hover}<extra>{p.label}</extra>",
            )
        )
    if baseline is not None and np.isfinite(baseline):
        fig.add_hline(
            y=baseline,
            line={"color": "grey", "dash": "dash", "width": 1},
            annotation_text=_("predicting the class frequencies"),
            annotation_position="top left",  # starts inside the plot: a phone never cuts it
        )
    fig.update_layout(
        xaxis_title=_("step"),
        yaxis_title=_("loss on the training set"),
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},  # below: the plot keeps the width
        margin={"t": 30, "b": 10, "l": 10, "r": 10},
        height=380,
    )
    return fig


def distinct_figure(panels: Sequence[Panel]) -> go.Figure:
    """Distinct units (record.symmetry) and mean |cosine| of weight vectors of each hidden layer, per panel."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(_("distinct units"), _("mean |cosine| of weight vectors (1 = all parallel)")),
        horizontal_spacing=0.12,
    )
    hover_distinct = _("step %{x}<br>%{y:.0f} distinct units")
    hover_cosine = _("step %{x}<br>mean |cosine| %{y:.3f}")
    width = 1
    for p in panels:
        rec = p.record
        width = max(width, *rec.sizes[1:-1])
        for layer in range(sym.hidden_depth(rec)):
            dash = LAYER_DASHES[layer % len(LAYER_DASHES)]
            name = _("{label}, layer {layer}", label=p.label, layer=layer + 1)
            fig.add_trace(
                go.Scatter(
                    x=np.asarray(rec.stat_steps),
                    y=np.asarray(rec.symmetry["distinct"][:, layer], dtype=np.float64),
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    line={"color": p.color, "dash": dash, "width": 2.5},
                    hovertemplate=f"{hover_distinct}<extra>{name}</extra>",
                ),
                row=1,
                col=1,
            )
            steps, cos = sym.abs_cosine_curve(rec, layer)
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=cos,
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=False,
                    line={"color": p.color, "dash": dash, "width": 2},
                    marker={"size": 5},
                    hovertemplate=f"{hover_cosine}<extra>{name}</extra>",
                ),
                row=1,
                col=2,
            )
    fig.update_yaxes(range=[0, width * 1.05 + 0.5], title_text=_("units"), row=1, col=1)
    fig.update_yaxes(range=[0, 1.05], row=1, col=2)  # no title: between the panels a phone would cut it
    fig.update_xaxes(title_text=_("step"))
    fig.update_annotations(font_size=13)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
        margin={"t": 40, "b": 10, "l": 10, "r": 10},
        height=430,
    )
    return fig


def _input_labels(fan_in: int, layer: int) -> list[str]:
    return [f"x{i + 1}" if layer == 0 else str(i + 1) for i in range(fan_in)]


def weight_heatmap_figure(panels: Sequence[Panel], checkpoint: int, layer: int) -> go.Figure:
    """Incoming weight matrix W (fan_in x units) of hidden `layer` (0-based) at checkpoint index
    `checkpoint` of every panel: one column per unit, so identical units show as identical columns.

    Each panel has its own colour scale, symmetric about 0 (white = 0).
    """
    n = len(panels)
    fig = make_subplots(
        rows=1, cols=n, subplot_titles=[p.label for p in panels], horizontal_spacing=0.08 if n > 1 else 0.0
    )
    hover = _("unit %{x}<br>from %{y}<br>w = %{z:.4g}")
    for i, p in enumerate(panels):
        W = np.asarray(p.record.weight_snapshots[checkpoint][layer], dtype=np.float64)
        finite = W[np.isfinite(W)]
        m = float(np.max(np.abs(finite))) if finite.size else 1.0
        m = m if m > 0 else 1.0
        axis = "coloraxis" if i == 0 else f"coloraxis{i + 1}"
        fig.add_trace(
            go.Heatmap(
                z=W,
                x=np.arange(1, W.shape[1] + 1),
                y=_input_labels(W.shape[0], layer),
                coloraxis=axis,
                xgap=1 if W.shape[1] <= 32 else 0,
                ygap=1 if W.shape[0] <= 32 else 0,
                hovertemplate=hover + "<extra></extra>",
            ),
            row=1,
            col=i + 1,
        )
        domain = fig.layout["xaxis" if i == 0 else f"xaxis{i + 1}"].domain
        fig.update_layout(
            {
                axis: {
                    "colorscale": "RdBu",
                    "cmin": -m,
                    "cmax": m,
                    # under its own panel, so it never covers the next one on a narrow screen
                    "colorbar": {
                        "orientation": "h",
                        "x": (domain[0] + domain[1]) / 2,
                        "xanchor": "center",
                        "y": -0.42,
                        "yanchor": "top",
                        "len": domain[1] - domain[0],
                        "thickness": 8,
                        "title": {"text": "w", "side": "right"},
                    },
                }
            }
        )
    source = (
        _("weight from the input") if layer == 0 else _("weight from a unit of layer {layer}", layer=layer)
    )
    # Two titles side by side, each as wide as its panel on a phone (German runs longer than English).
    unit = style.wrap(_("unit of hidden layer {layer}", layer=layer + 1), 12 if n > 1 else 44)
    fig.update_xaxes(title_text=unit, showgrid=False, zeroline=False)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False, type="category")
    fig.update_yaxes(title_text=source, row=1, col=1)
    fig.update_yaxes(showticklabels=panels[0].record.sizes[layer] <= 16, row=1, col=1)
    for col in range(2, n + 1):
        fig.update_yaxes(showticklabels=False, row=1, col=col)
    fig.update_annotations(font_size=13)
    fig.update_layout(margin={"t": 40, "b": 104, "l": 10, "r": 10}, height=340 if layer == 0 else 440)
    return fig


def _boundary_colorscale(k: int) -> list[list]:
    """Class c fills [c / k, (c + 1) / k]: its region colour, from faint (no preference) to full (certain)."""
    scale: list[list] = []
    for c in range(k):
        rgb = _hex_to_rgb(CLASS_COLORS[c % len(CLASS_COLORS)])
        faint = tuple(int(255 - (255 - v) * 0.25) for v in rgb)
        scale.append([c / k, f"rgb{faint}"])
        scale.append([(c + 1) / k - 1e-9 if c < k - 1 else 1.0, f"rgb{rgb}"])
    return scale


def _hex_to_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def boundary_figure(panels: Sequence[Panel], split: DataSplit | None) -> go.Figure:
    """Decision regions of every panel on the 2-D data (shade = confidence), test points on top."""
    fig = make_subplots(
        rows=1, cols=len(panels), subplot_titles=[p.label for p in panels], horizontal_spacing=0.06
    )
    for i, p in enumerate(panels):
        rec = p.record
        if rec.boundary is None or rec.boundary_extent is None:
            continue
        k = rec.sizes[-1]
        x0, x1, y0, y1 = rec.boundary_extent
        G_y, G_x = np.asarray(rec.boundary).shape
        fig.add_trace(
            go.Heatmap(
                z=sym.boundary_z(rec).astype(np.float32),  # float32 halves the payload; colours need no more
                x=np.linspace(x0, x1, G_x),
                y=np.linspace(y0, y1, G_y),
                zmin=0,
                zmax=k,
                colorscale=_boundary_colorscale(k),
                showscale=False,
                hoverinfo="skip",
            ),
            row=1,
            col=i + 1,
        )
        if split is not None:
            for c in range(k):
                pts = split.X_test[split.y_test == c]
                name = _("class {n}", n=c)
                fig.add_trace(
                    go.Scatter(
                        x=pts[:, 0],
                        y=pts[:, 1],
                        mode="markers",
                        name=name,
                        legendgroup=name,
                        showlegend=i == 0,
                        marker={
                            "color": POINT_COLORS[c % len(POINT_COLORS)],
                            "size": 6,
                            "line": {"color": "white", "width": 0.8},
                        },
                        hovertemplate=_("test point, class {n}", n=c) + "<extra></extra>",
                    ),
                    row=1,
                    col=i + 1,
                )
        fig.update_xaxes(range=[x0, x1], constrain="domain", row=1, col=i + 1)
        fig.update_yaxes(
            range=[y0, y1], scaleanchor=f"x{'' if i == 0 else i + 1}", constrain="domain", row=1, col=i + 1
        )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_annotations(font_size=13)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0},
        margin={"t": 40, "b": 10, "l": 10, "r": 10},
        height=420,
    )
    return fig
