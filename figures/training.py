"""Figures of the Training lesson: several init schemes trained on the same data and batches, side by side.

Only Plotly drawing, from RunRecords and what analysis.training computes from them; no streamlit here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import find_intermediate_color, hex_to_rgb
from plotly.subplots import make_subplots

from analysis import training as at
from analysis.training import run_label
from core.records import RunRecord
from i18n import N_, _, numbers

# Used only when the page passes no colour for a scheme (the page passes figures/style.py's colours).
FALLBACK_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
# Class colours of decision regions (ColorBrewer Pastel2) and of the points on them (Dark2, the same hues
# darker), so a point on a region of another class stands out.
CLASS_COLORS = ("#b3e2cd", "#fdcdac", "#cbd5e8", "#f4cae4", "#e6f5c9", "#fff2ae")
POINT_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
# Curves' legend in rows under the chart: beside it, it takes half a phone's width from the curves.
LEGEND = dict(groupclick="togglegroup", orientation="h", yanchor="top", y=-0.2, x=0)
HIST_AXIS = {
    "grad": N_("gradient dLoss/dW"),
    "weight": N_("weight W"),
    "act": N_("activation h"),
    "pre": N_("pre-activation z"),
}


# ---------------------------------------------------------------------------------------------- helpers


def panel_title(record: RunRecord) -> str:
    """run_label on two lines when it has a parameter, so narrow panels keep readable titles."""
    return run_label(record).replace(", ", "<br>", 1)


def _panels(records: Sequence[RunRecord], titles: Sequence[str] | None = None, **kw) -> go.Figure:
    """One panel per scheme side by side (titles: the schemes' labels unless given)."""
    kw = {"shared_yaxes": True, "horizontal_spacing": 0.035, **kw}
    titles = list(titles) if titles is not None else [panel_title(r) for r in records]
    return make_subplots(rows=1, cols=len(records), subplot_titles=titles, **kw)


def _style_panels(fig: go.Figure, records: Sequence[RunRecord], col: Mapping[str, str]) -> None:
    """Subplot titles in the scheme's colour, small enough for six panels side by side."""
    for ann, r in zip(fig.layout.annotations, records):
        ann.font = dict(color=col[r.scheme], size=12)


def _shared_x_title(fig: go.Figure, text: str) -> None:
    """One x-axis title under all panels instead of one per panel: below the tick labels (a heat map's sit
    lowest), in the figure's bottom margin of 66 px."""
    fig.add_annotation(
        text=text, x=0.5, y=0, xref="paper", yref="paper", yshift=-52, showarrow=False, font=dict(size=13)
    )


def _colors(records: Sequence[RunRecord], colors: Mapping[str, str] | None) -> dict[str, str]:
    colors = dict(colors or {})
    return {
        r.scheme: colors.get(r.scheme, FALLBACK_COLORS[i % len(FALLBACK_COLORS)])
        for i, r in enumerate(records)
    }


def _finite(a: np.ndarray) -> np.ndarray:
    """float64 copy with non-finite values as NaN (Plotly draws a gap; JSON has no inf)."""
    a = np.asarray(a, dtype=np.float64).copy()
    a[~np.isfinite(a)] = np.nan
    return a


def _rgba(hex_color: str, alpha: float) -> str:
    return "rgba({},{},{},{})".format(*hex_to_rgb(hex_color), alpha)


def _mix(hex_color: str, t: float) -> str:
    """`hex_color` blended with white: t = 0 white-ish (light), t = 1 the colour itself."""
    rgb = find_intermediate_color((255.0, 255.0, 255.0), hex_to_rgb(hex_color), 0.3 + 0.7 * t)
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def _axis(letter: str, i: int) -> str:
    """Plotly's name of the i-th (1-based) x or y axis: "x", "x2", ..."""
    return letter if i == 1 else f"{letter}{i}"


def _axes(i: int) -> dict[str, str]:
    """The x and y axis of panel i (1-based), for a trace, shape or annotation given as a dict."""
    return dict(xaxis=_axis("x", i), yaxis=_axis("y", i))


def _panel_note(fig: go.Figure, col: int, text: str) -> None:
    """A short note in the middle of an empty panel (e.g. every gradient is exactly 0)."""
    xref, yref = _axis("x", col) + " domain", _axis("y", col) + " domain"
    font = dict(size=12, color="#444444")
    fig.add_annotation(text=text, x=0.5, y=0.5, xref=xref, yref=yref, showarrow=False, font=font)


def _chance_line(fig: go.Figure, y: float, text: str) -> None:
    line = dict(color="gray", dash="dot", width=1)
    fig.add_hline(y=y, line=line, annotation_text=text, annotation_position="bottom right")


def _line(x, y, color: str, name: str, hover: str, width: float = 1.6, dash: str | None = None, **kw) -> dict:
    """A line trace (a dict: cheaper to build than go.Scatter); `kw`: legend group, axes, showlegend."""
    line = dict(color=color, width=width, dash=dash)
    return dict(type="scatter", mode="lines", x=x, y=y, name=name, line=line, hovertemplate=hover, **kw)


# ----------------------------------------------------------------------------------------- loss & accuracy


def loss_figure(
    records: Sequence[RunRecord], colors: Mapping[str, str] | None = None, log_y: bool = False
) -> go.Figure:
    """Mini-batch train loss of every step (solid) and test loss at the evaluations (dashed), per scheme.

    A diverged run gets an x marker at its last finite loss, labelled with the step it diverged at.
    """
    col = _colors(records, colors)
    lo, hi = at.loss_axis_range(records)
    chance = at.chance_loss(records)
    fig = go.Figure()
    for r in records:
        label = run_label(r)
        hover = dict(scheme=label, x="%{x}", y="%{y:.4g}")
        train = _("{scheme}<br>step {x}<br>batch loss {y}", **hover) + "<extra></extra>"
        test = _("{scheme}<br>step {x}<br>test loss {y}", **hover) + "<extra></extra>"
        c, steps, group = col[r.scheme], np.asarray(r.eval_steps), dict(legendgroup=r.scheme)
        fig.add_trace(_line(np.arange(len(r.loss)), _finite(r.loss), c, label, train, **group))
        test_name = _("{scheme} · test", scheme=label)
        fig.add_trace(
            _line(steps, _finite(r.test_loss), c, test_name, test, 2.2, "dash", showlegend=False, **group)
        )
        if r.diverged_at is not None:
            lf = at.last_finite(r.loss)
            y = min(lf[1], hi) if lf else chance  # on the axis even when the loss is 1e170
            text = _("diverges at step {step}", step=r.diverged_at)
            fig.add_trace(
                go.Scatter(
                    x=[r.diverged_at],
                    y=[y],
                    name=_("{scheme} · diverged", scheme=label),
                    legendgroup=r.scheme,
                    showlegend=False,
                    mode="markers+text",
                    marker=dict(symbol="x", size=14, color=col[r.scheme], line=dict(width=2)),
                    text=[text],
                    textposition="top center",
                    hovertemplate=f"{label}: {text}<extra></extra>",
                )
            )
    k = at.n_classes(records)
    _chance_line(fig, chance, _("chance: ln {k} = {loss}", k=k, loss=numbers.decimal(chance, 2)))
    fig.update_layout(
        title=_("Loss: train (each mini-batch, solid) and test (dashed)"),
        xaxis_title=_("step"),
        yaxis_title=_("cross-entropy loss"),
        hovermode="closest",
        legend=LEGEND,
        height=440,
        margin=dict(t=95, b=40, l=60, r=20),
    )
    if log_y:
        fig.update_yaxes(type="log", range=[math.log10(lo), math.log10(hi)])
    else:
        fig.update_yaxes(range=[0.0, hi])
    return fig


def accuracy_figure(records: Sequence[RunRecord], colors: Mapping[str, str] | None = None) -> go.Figure:
    """Accuracy on the whole train split (solid) and the test split (dashed) at the evaluation steps."""
    col = _colors(records, colors)
    fig = go.Figure()
    for r in records:
        label = run_label(r)
        hover = dict(scheme=label, x="%{x}", y="%{y:.1%}")
        train = _("{scheme}<br>step {x}<br>train accuracy {y}", **hover) + "<extra></extra>"
        test = _("{scheme}<br>step {x}<br>test accuracy {y}", **hover) + "<extra></extra>"
        c, steps, group = col[r.scheme], np.asarray(r.eval_steps), dict(legendgroup=r.scheme)
        fig.add_trace(_line(steps, _finite(r.train_acc), c, label, train, **group))
        test_name = _("{scheme} · test", scheme=label)
        fig.add_trace(
            _line(steps, _finite(r.test_acc), c, test_name, test, 2.2, "dash", showlegend=False, **group)
        )
    k = at.n_classes(records)
    _chance_line(fig, 1.0 / k, _("chance: 1/{k}", k=k))
    fig.update_layout(
        title=_("Accuracy: train (solid) and test (dashed)"),
        xaxis_title=_("step"),
        yaxis=dict(title=_("accuracy"), tickformat=".0%", range=[0, 1.02]),
        legend=LEGEND,
        height=380,
        margin=dict(t=95, b=40, l=60, r=20),
    )
    return fig


# -------------------------------------------------------------------------------------- histograms by layer


def hist_axis_title(kind: str, transform: str) -> str:
    name = str(HIST_AXIS.get(kind, kind))
    return _("log10 |{quantity}|", quantity=name) if transform == "log10abs" else name


def ridgeline_figure(
    records: Sequence[RunRecord],
    checkpoint: int,
    kind: str = "grad",
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """Per-layer histograms of `kind` at checkpoint index `checkpoint`, one ridgeline column per scheme.

    Each ridge is the fraction of the layer's entries per bin (so layers of different sizes compare), all
    ridges on one height scale, all columns on one x axis. Exact zeros are not in the bins: a layer whose
    entries are mostly zero is labelled with its zero fraction instead.
    """
    col = _colors(records, colors)
    n_layers = records[0].hists[kind].counts.shape[1]
    layers = at.ridge_layers(n_layers)
    fig = _panels(records, shared_xaxes=True, horizontal_spacing=0.02)
    data = [at.hist_fractions(r.hists[kind], checkpoint) for r in records]
    peak = max(float(frac[layers].max(initial=0.0)) for _c, frac, _z in data)
    scale = 1.6 / peak if peak > 0 else 1.0  # tallest ridge reaches 1.6 rows: overlapping, like a ridgeline
    xs = np.concatenate([d[0] for d in data])
    x_lo, x_hi = float(xs.min()), float(xs.max())
    traces, notes = [], []
    for i, (r, (centres, frac, zero_frac)) in enumerate(zip(records, data), start=1):
        # One trace per scheme: each layer's ridge is one closed segment (None between segments), so the
        # browser builds one path per panel instead of one per layer.
        xs, ys, names = [], [], []
        for row, j in enumerate(reversed(layers)):
            # reversed: layer 1 at the top, the output layer at the bottom, like the network diagram
            base = float(row)
            y = base + frac[j] * scale
            name = _("{scheme} · {layer}", scheme=run_label(r), layer=at.layer_name(j, n_layers))
            xs += [centres, centres[::-1], [None]]
            ys += [y, np.full_like(y, base), [None]]
            names += [name] * (2 * len(centres) + 1)
            if zero_frac[j] > 0.5:
                text = _("{share} exactly 0", share=numbers.pct(zero_frac[j]))
                font = dict(size=11, color=col[r.scheme])
                note = dict(x=x_hi, xanchor="right", y=base + 0.3, text=text, showarrow=False, font=font)
                notes.append(note | dict(xref=_axis("x", i), yref=_axis("y", i)))
        x = np.concatenate(xs[:-1]).astype(float)  # None -> NaN: a gap, at which Plotly closes a segment
        y = np.concatenate(ys[:-1]).astype(float)
        ridge = _line(
            x, y, col[r.scheme], run_label(r), "%{text}<extra></extra>", 1, text=names[:-1], **_axes(i)
        )
        traces.append(ridge | dict(fill="toself", fillcolor=_rgba(col[r.scheme], 0.35), showlegend=False))
    fig.add_traces(traces)  # one call: adding traces one by one to subplots is slow in plotly
    fig.update_layout(annotations=list(fig.layout.annotations) + notes)
    tick_layers = list(reversed(layers))
    fig.update_yaxes(
        tickvals=list(range(len(tick_layers))),
        ticktext=[at.layer_name(j, n_layers) for j in tick_layers],
        range=[-0.2, len(layers) + 0.9],
        showgrid=True,
        row=1,
        col=1,
    )
    axis = hist_axis_title(kind, records[0].hists[kind].transform)
    fig.update_xaxes(range=[x_lo, x_hi])
    _shared_x_title(fig, axis)
    _style_panels(fig, records, col)
    step = int(records[0].hist_steps[checkpoint])
    if len(layers) == n_layers:
        title = _("{quantity} by layer at step {step}", quantity=axis, step=step)
    else:
        title = _(
            "{quantity} by layer at step {step} ({shown} of {n} layers shown)",
            quantity=axis,
            step=step,
            shown=len(layers),
            n=n_layers,
        )
    fig.update_layout(
        title=title,
        height=max(320, 60 + 34 * len(layers)),
        margin=dict(t=90, b=66, l=90, r=20),
        hovermode="closest",
    )
    return fig


# ------------------------------------------------------------------------------------- layer x step maps


def grad_norm_heatmap(records: Sequence[RunRecord], colors: Mapping[str, str] | None = None) -> go.Figure:
    """log10 of the gradient norm of every layer (rows) at every recorded step (columns), one panel per scheme.

    One shared colour scale, so a band that is dark in one scheme and bright in another is a real difference.
    Exactly-zero gradients have no logarithm: they are left blank and the panel says so.
    """
    col = _colors(records, colors)
    n_layers = records[0].layer_stats["grad_norm"].shape[1]
    fig = _panels(records)
    logs, lo, hi = at.log_grad_norms(records)
    ticks = list(range(math.floor(lo), math.ceil(hi) + 1))
    if len(ticks) > 8:
        ticks = ticks[:: math.ceil(len(ticks) / 8)]
    labels = [str(j + 1) for j in range(n_layers - 1)] + [_("output")]
    hover = _("step {x}<br>layer {y}<br>log10 ‖dL/dW‖ = {z}", x="%{x}", y="%{y}", z="%{z:.2f}")
    for i, (r, z) in enumerate(zip(records, logs), start=1):
        steps = np.asarray(r.stat_steps)
        extra = f"{hover}<extra>{run_label(r)}</extra>"
        fig.add_trace(
            go.Heatmap(x=steps, y=labels, z=z.T, coloraxis="coloraxis", hovertemplate=extra), row=1, col=i
        )
        if (np.asarray(r.layer_stats["grad_norm"]) == 0).all():
            _panel_note(fig, i, _("every gradient<br>is exactly 0"))
        elif r.diverged_at is not None:
            _panel_note(fig, i, _("diverged at<br>step {step}", step=r.diverged_at))
        if steps.size:
            fig.update_xaxes(range=[steps[0] - 0.5, max(steps[-1], 1) + 0.5], row=1, col=i)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_yaxes(title_text=_("layer"), row=1, col=1)
    fig.update_xaxes(nticks=4)
    _shared_x_title(fig, _("step"))
    _style_panels(fig, records, col)
    fig.update_layout(
        title=_("Gradient norm ‖dLoss/dW‖ of each layer over training (log colour; blank = exactly 0)"),
        coloraxis=dict(
            colorscale="Viridis",
            cmin=lo,
            cmax=hi,
            colorbar=dict(title="‖dL/dW‖", tickvals=ticks, ticktext=[numbers.num(10.0**t) for t in ticks]),
        ),
        height=max(320, 150 + 9 * n_layers),
        margin=dict(t=90, b=66, l=70, r=20),
    )
    return fig


def update_ratio_figure(records: Sequence[RunRecord], colors: Mapping[str, str] | None = None) -> go.Figure:
    """||ΔW|| / ||W|| of every layer over training (log y), one panel per scheme, with the 1e-3 reference.

    Layers are shades of the scheme's colour: light = first hidden layer, full colour = output layer.
    A layer that never moves (ratio 0) or starts from all-zero weights (ratio inf) has no point on a log axis.
    """
    col = _colors(records, colors)
    n_layers = records[0].layer_stats["update_ratio"].shape[1]
    fig = _panels(records)
    traces, shapes = [], []
    for i, r in enumerate(records, start=1):
        raw = np.asarray(r.layer_stats["update_ratio"], dtype=np.float64)
        ratio = _finite(raw)
        ratio[ratio <= 0] = np.nan
        for j in range(n_layers):
            layer = at.layer_name(j, n_layers)
            shade = _mix(col[r.scheme], j / max(n_layers - 1, 1))
            name = _("{scheme} · {layer}", scheme=run_label(r), layer=layer)
            hover = (
                _("{layer}<br>step {x}<br>ratio {y}", layer=layer, x="%{x}", y="%{y:.2e}") + "<extra></extra>"
            )
            steps = np.asarray(r.stat_steps)
            traces.append(_line(steps, ratio[:, j], shade, name, hover, 1.3, showlegend=False, **_axes(i)))
        rule, line = at.UPDATE_RATIO_RULE, dict(color="gray", dash="dash", width=1)
        refs = dict(xref=_axis("x", i) + " domain", yref=_axis("y", i))
        shapes.append(
            dict(type="line", x0=0, x1=1, y0=rule, y1=rule, line=line, **refs)
        )  # the 1e-3 reference
        taken = raw[~np.isnan(raw).all(axis=1)]
        if taken.size and np.all(taken == 0):
            _panel_note(fig, i, _("no weight<br>ever moves"))
    fig.add_traces(traces)
    fig.update_layout(shapes=shapes)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_yaxes(title_text=_("‖ΔW‖ / ‖W‖ per step"), row=1, col=1)
    fig.update_xaxes(nticks=4)
    _shared_x_title(fig, _("step"))
    _style_panels(fig, records, col)
    fig.update_layout(
        title=_(
            "Update-to-weight ratio of each layer (light = layer 1, dark = output; dashed = {rule})",
            rule=numbers.num(at.UPDATE_RATIO_RULE),
        ),
        height=360,
        margin=dict(t=90, b=66, l=70, r=20),
    )
    return fig


# ---------------------------------------------------------------------------------------------- the end


def _titles_with_accuracy(records: Sequence[RunRecord]) -> list[str]:
    return [
        _("{scheme}<br>test {acc}", scheme=panel_title(r), acc=at.fmt_pct(at.final_value(r, "test_acc")))
        for r in records
    ]


def boundary_figure(
    records: Sequence[RunRecord],
    colors: Mapping[str, str] | None = None,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
) -> go.Figure:
    """Decision regions of each scheme at the last step on the 2-D grid, with the test points on top."""
    col = _colors(records, colors)
    k = at.n_classes(records)
    palette = [CLASS_COLORS[c % len(CLASS_COLORS)] for c in range(k)]
    # a discrete colour scale: class c (z = c, zmin = -0.5, zmax = k - 0.5) fills [c / k, (c + 1) / k]
    scale = [pair for c in range(k) for pair in ([c / k, palette[c]], [(c + 1) / k, palette[c]])]
    fig = _panels(records, _titles_with_accuracy(records), horizontal_spacing=0.02)
    region = dict(zmin=-0.5, zmax=k - 0.5, colorscale=scale, showscale=False)
    region["hovertemplate"] = _("predicted class {z}", z="%{z}") + "<extra></extra>"
    traces = []
    for i, r in enumerate(records, start=1):
        if r.boundary is None or r.boundary_extent is None:
            continue
        x0, x1, y0, y1 = r.boundary_extent
        gx, gy = np.linspace(x0, x1, r.boundary.shape[0]), np.linspace(y0, y1, r.boundary.shape[0])
        z = np.asarray(r.boundary, dtype=np.int8)  # int8: a 100 x 100 grid is 13 kB in the page
        traces.append(dict(type="heatmap", x=gx, y=gy, z=z, **region, **_axes(i)))
        if X is not None and y is not None:
            colors = [POINT_COLORS[int(c) % len(POINT_COLORS)] for c in y]
            marker = dict(color=colors, size=5, line=dict(color="white", width=0.5))
            hover = _("true class {c}", c="%{customdata}") + "<extra></extra>"
            points = dict(x=X[:, 0], y=X[:, 1], marker=marker, customdata=np.asarray(y), hovertemplate=hover)
            traces.append(dict(type="scatter", mode="markers", showlegend=False, **points, **_axes(i)))
        fig.update_xaxes(range=[x0, x1], row=1, col=i, showticklabels=False)
        fig.update_yaxes(range=[y0, y1], row=1, col=i, showticklabels=False, scaleanchor=f"x{i}")
    fig.add_traces(traces)
    _style_panels(fig, records, col)
    fig.update_layout(
        title=_("Decision regions at the end (points: the test split in its true class's colour)"),
        height=max(300, min(460, 1000 // max(len(records), 1) + 110)),
        margin=dict(t=110, b=10, l=10, r=10),
    )
    return fig


def confusion_figure(records: Sequence[RunRecord], colors: Mapping[str, str] | None = None) -> go.Figure:
    """Test-split confusion matrices (rows = true class) of the given records, side by side."""
    col = _colors(records, colors)
    fig = _panels(records, _titles_with_accuracy(records), shared_yaxes=False, horizontal_spacing=0.08)
    hover = _("true {y}, predicted {x}: {z}", y="%{y}", x="%{x}", z="%{z}") + "<extra></extra>"
    for i, r in enumerate(records, start=1):
        cm = np.asarray(r.confusion)
        names = [str(c) for c in range(cm.shape[0])]
        cells = dict(z=cm, x=names, y=names, text=cm, texttemplate="%{text}", hovertemplate=hover)
        fig.add_trace(go.Heatmap(coloraxis="coloraxis", **cells), row=1, col=i)
        fig.update_xaxes(title_text=_("predicted class"), row=1, col=i)
        fig.update_yaxes(title_text=_("true class") if i == 1 else None, autorange="reversed", row=1, col=i)
    _style_panels(fig, records, col)
    fig.update_layout(
        title=_("Confusion matrices on the test split (best and worst scheme)"),
        coloraxis=dict(colorscale="Blues", showscale=False),
        height=460,
        margin=dict(t=100, b=50, l=60, r=20),
    )
    return fig
