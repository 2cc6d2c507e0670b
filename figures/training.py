"""Figures and tables of the Training lesson: several init schemes trained on the same data and batches.

Pure functions from RunRecords to Plotly figures, pandas tables and computed sentences; no streamlit here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core import initializers
from core.records import Histogram, RunRecord
from i18n.numbers import minus, num, pct

# Used only when the page passes no colour for a scheme (the page passes ui/style.py's colours).
FALLBACK_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
# Class colours of decision regions (ColorBrewer Pastel2) and of the points on them (Dark2, the same hues
# darker), so a point on a region of another class stands out.
CLASS_COLORS = ("#b3e2cd", "#fdcdac", "#cbd5e8", "#f4cae4", "#e6f5c9", "#fff2ae")
POINT_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
UPDATE_RATIO_RULE = 1e-3  # the rule of thumb: each step changes a weight matrix by about 1e-3 of its norm
MAX_RIDGES = 16  # layers drawn in one ridgeline; deeper nets show evenly spaced layers (the heatmap has all)


# ---------------------------------------------------------------------------------------------- helpers


def scheme_label(scheme: str) -> str:
    """The one human label of a scheme id ("he_normal" -> "He (Kaiming) normal"): core.initializers' registry."""
    return initializers.scheme_label(scheme)


def run_label(record: RunRecord) -> str:
    """The scheme's label plus the parameters that define it, if any ("Normal (fixed σ), σ = 0.01")."""
    return initializers.run_label(record.scheme, record.config)


def _scheme_panels(records: Sequence[RunRecord]) -> go.Figure:
    """One panel per scheme side by side, sharing the y axis (layers or ratios line up across schemes)."""
    return make_subplots(
        rows=1,
        cols=len(records),
        shared_yaxes=True,
        horizontal_spacing=0.035,
        subplot_titles=[panel_title(r) for r in records],
    )


def panel_title(record: RunRecord) -> str:
    """run_label on two lines when it has a parameter, so narrow panels keep readable titles."""
    return run_label(record).replace(", ", "<br>", 1)


def _style_panels(fig: go.Figure, records: Sequence[RunRecord], col: Mapping[str, str]) -> None:
    """Subplot titles in the scheme's colour, small enough for six panels side by side."""
    for ann, r in zip(fig.layout.annotations, records):
        ann.font = dict(color=col[r.scheme], size=12)


def _shared_x_title(fig: go.Figure, text: str) -> None:
    """One x-axis title under all panels instead of one per panel."""
    fig.add_annotation(
        text=text, x=0.5, y=0, xref="paper", yref="paper", yshift=-42, showarrow=False, font=dict(size=13)
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
    h = hex_color.lstrip("#")
    if len(h) != 6:
        return hex_color
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:.3g})"


def _mix(hex_color: str, t: float) -> str:
    """`hex_color` blended with white: t = 0 white-ish (light), t = 1 the colour itself."""
    h = hex_color.lstrip("#")
    if len(h) != 6:
        return hex_color
    rgb = [int(h[i : i + 2], 16) for i in (0, 2, 4)]
    t = 0.3 + 0.7 * t
    r, g, b = (round(255 - (255 - c) * t) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def fmt(x: float) -> str:
    """A number as a student reads it: 1.10, 0.0213, 3.1×10⁻⁵ (i18n.numbers' style), "not a number"."""
    if x is None or not math.isfinite(x):
        return "not a number"
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 1e6 or ax < 1e-3:
        return num(x, 2)
    if ax >= 100:
        return minus(f"{x:,.0f}")
    return minus(f"{x:.3g}" if ax < 1 else f"{x:.2f}")


def layer_name(j: int, n_layers: int) -> str:
    """Column j of a per-layer array: 'layer j+1', the last one is the output layer."""
    return "output layer" if j == n_layers - 1 else f"layer {j + 1}"


def chance_loss(records: Sequence[RunRecord]) -> float:
    """ln k: the loss of predicting every class with probability 1/k."""
    return math.log(records[0].confusion.shape[0])


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
    centres, frac, zero_frac = hist_fractions(hist, c)
    out = np.full(frac.shape[0], np.nan)
    for j in range(frac.shape[0]):
        cum = np.cumsum(frac[j])
        if cum[-1] <= 0:
            continue
        k = int(np.searchsorted(cum, 0.5 * cum[-1]))
        centre = centres[min(k, len(centres) - 1)]
        out[j] = 10.0**centre if hist.transform == "log10abs" else centre
    return out


def ridge_layers(n_layers: int, max_ridges: int = MAX_RIDGES) -> list[int]:
    """Which layer columns a ridgeline draws: all, or evenly spaced with the first and the output layer."""
    if n_layers <= max_ridges:
        return list(range(n_layers))
    return sorted({int(round(x)) for x in np.linspace(0, n_layers - 1, max_ridges)})


# ----------------------------------------------------------------------------------------- loss & accuracy


def loss_figure(
    records: Sequence[RunRecord], colors: Mapping[str, str] | None = None, log_y: bool = False
) -> go.Figure:
    """Mini-batch train loss of every step (solid) and test loss at the evaluations (dashed), per scheme.

    A diverged run gets an x marker at its last finite loss, labelled with the step it diverged at.
    """
    col = _colors(records, colors)
    lo, hi = loss_axis_range(records)
    fig = go.Figure()
    for r in records:
        label = run_label(r)
        steps = np.arange(len(r.loss))
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=_finite(r.loss),
                name=label,
                legendgroup=r.scheme,
                mode="lines",
                line=dict(color=col[r.scheme], width=1.6),
                hovertemplate=f"{label}<br>step %{{x}}<br>batch loss %{{y:.4g}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=np.asarray(r.eval_steps),
                y=_finite(r.test_loss),
                name=f"{label} · test",
                legendgroup=r.scheme,
                showlegend=False,
                mode="lines",
                line=dict(color=col[r.scheme], width=2.2, dash="dash"),
                hovertemplate=f"{label}<br>step %{{x}}<br>test loss %{{y:.4g}}<extra></extra>",
            )
        )
        if r.diverged_at is not None:
            lf = last_finite(r.loss)
            y = min(lf[1], hi) if lf else chance_loss(records)  # on the axis even when the loss is 1e170
            fig.add_trace(
                go.Scatter(
                    x=[r.diverged_at],
                    y=[y],
                    name=f"{label} · diverged",
                    legendgroup=r.scheme,
                    showlegend=False,
                    mode="markers+text",
                    marker=dict(symbol="x", size=14, color=col[r.scheme], line=dict(width=2)),
                    text=[f"diverged at step {r.diverged_at}"],
                    textposition="top center",
                    hovertemplate=f"{label} diverged at step {r.diverged_at}<extra></extra>",
                )
            )
    fig.add_hline(
        y=chance_loss(records),
        line=dict(color="gray", dash="dot", width=1),
        annotation_text=f"chance: ln {records[0].confusion.shape[0]} = {chance_loss(records):.2f}",
        annotation_position="bottom right",
    )
    fig.update_layout(
        title="Loss: train (each mini-batch, solid) and test (dashed)",
        xaxis_title="step",
        yaxis_title="cross-entropy loss",
        hovermode="closest",
        legend=dict(groupclick="togglegroup"),
        height=440,
        margin=dict(t=95, b=40, l=60, r=20),
    )
    if log_y:
        fig.update_yaxes(type="log", range=[math.log10(lo), math.log10(hi)])
    else:
        fig.update_yaxes(range=[0.0, hi])
    return fig


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
    lo, hi = min(vals), max(vals)
    return lo / 1.3, hi * 1.08


def loss_axis_note(records: Sequence[RunRecord], log_y: bool = False) -> str:
    """A sentence when the loss axis cuts off a diverged run's exploding loss, else ""."""
    _, hi = loss_axis_range(records)
    cut = []
    for r in records:
        a = np.asarray(r.loss, dtype=np.float64)
        a = a[np.isfinite(a)]
        if r.diverged_at is not None and a.size and a.max() > hi:
            cut.append(f"{run_label(r)} reached a loss of {fmt(float(a.max()))}")
    if not cut:
        return ""
    return (
        "The loss axis stops at "
        + fmt(hi)
        + " so the other curves stay readable: "
        + "; ".join(cut)
        + " before it stopped."
    )


def accuracy_figure(records: Sequence[RunRecord], colors: Mapping[str, str] | None = None) -> go.Figure:
    """Accuracy on the whole train split (solid) and the test split (dashed) at the evaluation steps."""
    col = _colors(records, colors)
    fig = go.Figure()
    for r in records:
        label = run_label(r)
        for name, dash, width in (("train_acc", None, 1.6), ("test_acc", "dash", 2.2)):
            fig.add_trace(
                go.Scatter(
                    x=np.asarray(r.eval_steps),
                    y=_finite(getattr(r, name)),
                    name=label if name == "train_acc" else f"{label} · test",
                    legendgroup=r.scheme,
                    showlegend=name == "train_acc",
                    mode="lines",
                    line=dict(color=col[r.scheme], width=width, dash=dash),
                    hovertemplate=f"{label}<br>step %{{x}}<br>{name.replace('_', ' ')} %{{y:.1%}}<extra></extra>",
                )
            )
    k = records[0].confusion.shape[0]
    fig.add_hline(
        y=1.0 / k,
        line=dict(color="gray", dash="dot", width=1),
        annotation_text=f"chance: 1/{k}",
        annotation_position="bottom right",
    )
    fig.update_layout(
        title="Accuracy: train (solid) and test (dashed)",
        xaxis_title="step",
        yaxis=dict(title="accuracy", tickformat=".0%", range=[0, 1.02]),
        legend=dict(groupclick="togglegroup"),
        height=380,
        margin=dict(t=95, b=40, l=60, r=20),
    )
    return fig


# -------------------------------------------------------------------------------------- histograms by layer

_HIST_AXIS = {
    "grad": "gradient dLoss/dW",
    "weight": "weight W",
    "act": "activation h",
    "pre": "pre-activation z",
}


def hist_axis_title(kind: str, transform: str) -> str:
    name = _HIST_AXIS.get(kind, kind)
    return f"log10 |{name}|" if transform == "log10abs" else name


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
    layers = ridge_layers(n_layers)
    fig = make_subplots(
        rows=1,
        cols=len(records),
        shared_xaxes=True,
        shared_yaxes=True,
        horizontal_spacing=0.02,
        subplot_titles=[panel_title(r) for r in records],
    )
    data = []
    peak = 0.0
    for r in records:
        centres, frac, zero_frac = hist_fractions(r.hists[kind], checkpoint)
        data.append((centres, frac, zero_frac))
        peak = max(peak, float(frac[layers].max(initial=0.0)))
    scale = 1.6 / peak if peak > 0 else 1.0  # tallest ridge reaches 1.6 rows: overlapping, like a ridgeline
    xs = np.concatenate([d[0] for d in data])
    x_lo, x_hi = float(xs.min()), float(xs.max())
    traces, notes = [], []
    for i, (r, (centres, frac, zero_frac)) in enumerate(zip(records, data), start=1):
        for row, j in enumerate(reversed(layers)):
            # reversed: layer 1 at the top, the output layer at the bottom, like the network diagram
            base = float(row)
            y = base + frac[j] * scale
            traces.append(
                dict(
                    type="scatter",
                    x=np.concatenate([centres, centres[::-1]]),
                    y=np.concatenate([y, np.full_like(y, base)]),
                    xaxis=_axis("x", i),
                    yaxis=_axis("y", i),
                    fill="toself",
                    mode="lines",
                    line=dict(color=col[r.scheme], width=1),
                    fillcolor=_rgba(col[r.scheme], 0.35),
                    showlegend=False,
                    name=f"{run_label(r)} · {layer_name(j, n_layers)}",
                    hoverinfo="name",
                    hoveron="fills",
                )
            )
            if zero_frac[j] > 0.5:
                notes.append(
                    dict(
                        x=x_hi,
                        xanchor="right",
                        y=base + 0.3,
                        xref=_axis("x", i),
                        yref=_axis("y", i),
                        text=f"{pct(zero_frac[j])} exactly 0",
                        showarrow=False,
                        font=dict(size=11, color=col[r.scheme]),
                    )
                )
    fig.add_traces(traces)  # one call: adding traces one by one to subplots is slow in plotly
    fig.update_layout(annotations=list(fig.layout.annotations) + notes)
    tick_layers = list(reversed(layers))
    fig.update_yaxes(
        tickvals=list(range(len(tick_layers))),
        ticktext=[layer_name(j, n_layers) for j in tick_layers],
        range=[-0.2, len(layers) + 0.9],
        showgrid=True,
        row=1,
        col=1,
    )
    r0 = records[0]
    transform = r0.hists[kind].transform
    fig.update_xaxes(range=[x_lo, x_hi])
    _shared_x_title(fig, hist_axis_title(kind, transform))
    _style_panels(fig, records, col)
    shown = "" if len(layers) == n_layers else f" ({len(layers)} of {n_layers} layers shown)"
    fig.update_layout(
        title=f"{hist_axis_title(kind, transform)} by layer at step {int(r0.hist_steps[checkpoint])}{shown}",
        height=max(320, 60 + 34 * len(layers)),
        margin=dict(t=90, b=60, l=90, r=20),
        hovermode="closest",
    )
    return fig


# ------------------------------------------------------------------------------------- layer x step maps


def _axis(letter: str, i: int) -> str:
    """Plotly's name of the i-th (1-based) x or y axis: "x", "x2", ..."""
    return letter if i == 1 else f"{letter}{i}"


def _panel_note(fig: go.Figure, col: int, text: str) -> None:
    """A short note in the middle of an empty panel (e.g. every gradient is exactly 0)."""
    xref = "x domain" if col == 1 else f"x{col} domain"
    yref = "y domain" if col == 1 else f"y{col} domain"
    fig.add_annotation(
        text=text, x=0.5, y=0.5, xref=xref, yref=yref, showarrow=False, font=dict(size=12, color="#444444")
    )


def grad_norm_heatmap(records: Sequence[RunRecord], colors: Mapping[str, str] | None = None) -> go.Figure:
    """log10 of the gradient norm of every layer (rows) at every recorded step (columns), one panel per scheme.

    One shared colour scale, so a band that is dark in one scheme and bright in another is a real difference.
    Exactly-zero gradients have no logarithm: they are left blank and the panel says so.
    """
    col = _colors(records, colors)
    n_layers = records[0].layer_stats["grad_norm"].shape[1]
    fig = _scheme_panels(records)
    logs = []
    for r in records:
        g = _finite(r.layer_stats["grad_norm"])
        with np.errstate(divide="ignore"):
            z = np.log10(g)
        z[~np.isfinite(z)] = np.nan
        logs.append(z)
    allz = np.concatenate([z.ravel() for z in logs])
    allz = allz[np.isfinite(allz)]
    lo, hi = (float(allz.min()), float(allz.max())) if allz.size else (-1.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    ticks = list(range(math.floor(lo), math.ceil(hi) + 1))
    if len(ticks) > 8:
        ticks = ticks[:: math.ceil(len(ticks) / 8)]
    labels = [layer_name(j, n_layers).replace("layer ", "") for j in range(n_layers)]
    for i, (r, z) in enumerate(zip(records, logs), start=1):
        steps = np.asarray(r.stat_steps)
        fig.add_trace(
            go.Heatmap(
                x=steps,
                y=labels,
                z=z.T,
                coloraxis="coloraxis",
                hovertemplate="step %{x}<br>layer %{y}<br>log10 ‖dL/dW‖ = %{z:.2f}<extra>"
                + run_label(r)
                + "</extra>",
            ),
            row=1,
            col=i,
        )
        zero = np.asarray(r.layer_stats["grad_norm"]) == 0
        if zero.all():
            _panel_note(fig, i, "every gradient<br>is exactly 0")
        elif r.diverged_at is not None:
            _panel_note(fig, i, f"diverged at<br>step {r.diverged_at}")
        if steps.size:
            fig.update_xaxes(range=[steps[0] - 0.5, max(steps[-1], 1) + 0.5], row=1, col=i)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_yaxes(title_text="layer", row=1, col=1)
    fig.update_xaxes(nticks=4)
    _shared_x_title(fig, "step")
    _style_panels(fig, records, col)
    fig.update_layout(
        title="Gradient norm ‖dLoss/dW‖ of each layer over training (log colour; blank = exactly 0)",
        coloraxis=dict(
            colorscale="Viridis",
            cmin=lo,
            cmax=hi,
            colorbar=dict(title="‖dL/dW‖", tickvals=ticks, ticktext=[f"1e{t}" for t in ticks]),
        ),
        height=max(320, 150 + 9 * n_layers),
        margin=dict(t=90, b=60, l=70, r=20),
    )
    return fig


def update_ratio_figure(records: Sequence[RunRecord], colors: Mapping[str, str] | None = None) -> go.Figure:
    """||ΔW|| / ||W|| of every layer over training (log y), one panel per scheme, with the 1e-3 reference.

    Layers are shades of the scheme's colour: light = first hidden layer, full colour = output layer.
    A layer that never moves (ratio 0) or starts from all-zero weights (ratio inf) has no point on a log axis.
    """
    col = _colors(records, colors)
    n_layers = records[0].layer_stats["update_ratio"].shape[1]
    fig = _scheme_panels(records)
    traces, shapes = [], []
    for i, r in enumerate(records, start=1):
        raw = np.asarray(r.layer_stats["update_ratio"], dtype=np.float64)
        ratio = _finite(raw)
        ratio[ratio <= 0] = np.nan
        for j in range(n_layers):
            t = j / max(n_layers - 1, 1)
            traces.append(
                dict(
                    type="scatter",
                    x=np.asarray(r.stat_steps),
                    y=ratio[:, j],
                    xaxis=_axis("x", i),
                    yaxis=_axis("y", i),
                    mode="lines",
                    line=dict(color=_mix(col[r.scheme], t), width=1.3),
                    name=f"{run_label(r)} · {layer_name(j, n_layers)}",
                    showlegend=False,
                    hovertemplate=f"{layer_name(j, n_layers)}<br>step %{{x}}<br>ratio %{{y:.2e}}<extra></extra>",
                )
            )
        shapes.append(  # the 1e-3 reference across the panel
            dict(
                type="line",
                x0=0,
                x1=1,
                y0=UPDATE_RATIO_RULE,
                y1=UPDATE_RATIO_RULE,
                xref=_axis("x", i) + " domain",
                yref=_axis("y", i),
                line=dict(color="gray", dash="dash", width=1),
            )
        )
    fig.add_traces(traces)
    fig.update_layout(shapes=shapes)
    for i, r in enumerate(records, start=1):
        raw = np.asarray(r.layer_stats["update_ratio"], dtype=np.float64)
        taken = raw[~np.isnan(raw).all(axis=1)]
        if taken.size and np.all(taken == 0):
            _panel_note(fig, i, "no weight<br>ever moves")
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_yaxes(title_text="‖ΔW‖ / ‖W‖ per step", row=1, col=1)
    fig.update_xaxes(nticks=4)
    _shared_x_title(fig, "step")
    _style_panels(fig, records, col)
    fig.update_layout(
        title="Update-to-weight ratio of each layer (light = layer 1, dark = output; dashed = 1e-3)",
        height=360,
        margin=dict(t=90, b=60, l=70, r=20),
    )
    return fig


# ---------------------------------------------------------------------------------------------- the end


def boundary_figure(
    records: Sequence[RunRecord],
    colors: Mapping[str, str] | None = None,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
) -> go.Figure:
    """Decision regions of each scheme at the last step on the 2-D grid, with the test points on top."""
    col = _colors(records, colors)
    k = records[0].confusion.shape[0]
    palette = [CLASS_COLORS[c % len(CLASS_COLORS)] for c in range(k)]
    # a discrete colour scale: class c (z = c, zmin = -0.5, zmax = k - 0.5) fills [c / k, (c + 1) / k]
    scale = []
    for c in range(k):
        scale += [[c / k, palette[c]], [(c + 1) / k, palette[c]]]
    fig = make_subplots(
        rows=1,
        cols=len(records),
        shared_yaxes=True,
        horizontal_spacing=0.02,
        subplot_titles=[f"{panel_title(r)}<br>test {fmt_pct(final_value(r, 'test_acc'))}" for r in records],
    )
    for i, r in enumerate(records, start=1):
        if r.boundary is None or r.boundary_extent is None:
            continue
        x0, x1, y0, y1 = r.boundary_extent
        g = r.boundary.shape[0]
        fig.add_trace(
            go.Heatmap(
                x=np.linspace(x0, x1, g),
                y=np.linspace(y0, y1, g),
                z=np.asarray(r.boundary, dtype=np.int8),  # int8: a 100 x 100 grid is 13 kB in the page
                zmin=-0.5,
                zmax=k - 0.5,
                colorscale=scale,
                showscale=False,
                hovertemplate="predicted class %{z}<extra></extra>",
            ),
            row=1,
            col=i,
        )
        if X is not None and y is not None:
            fig.add_trace(
                go.Scatter(
                    x=X[:, 0],
                    y=X[:, 1],
                    mode="markers",
                    marker=dict(
                        color=[POINT_COLORS[int(c) % len(POINT_COLORS)] for c in y],
                        size=5,
                        line=dict(color="white", width=0.5),
                    ),
                    showlegend=False,
                    hovertemplate="true class %{customdata}<extra></extra>",
                    customdata=np.asarray(y),
                ),
                row=1,
                col=i,
            )
        fig.update_xaxes(range=[x0, x1], row=1, col=i, showticklabels=False)
        fig.update_yaxes(range=[y0, y1], row=1, col=i, showticklabels=False, scaleanchor=f"x{i}")
    _style_panels(fig, records, col)
    fig.update_layout(
        title="Decision regions at the end (points: the test split in its true class's colour)",
        height=max(300, min(460, 1000 // max(len(records), 1) + 110)),
        margin=dict(t=110, b=10, l=10, r=10),
    )
    return fig


def fmt_pct(x: float) -> str:
    return pct(x, 1)


def best_and_worst(records: Sequence[RunRecord]) -> tuple[RunRecord, RunRecord]:
    """The schemes with the highest and the lowest final test accuracy (a diverged run counts as 0)."""

    def acc(r: RunRecord) -> float:
        a = final_value(r, "test_acc")
        return a if math.isfinite(a) else 0.0

    ranked = sorted(records, key=acc)
    return ranked[-1], ranked[0]


def confusion_figure(records: Sequence[RunRecord], colors: Mapping[str, str] | None = None) -> go.Figure:
    """Test-split confusion matrices (rows = true class) of the given records, side by side."""
    col = _colors(records, colors)
    fig = make_subplots(
        rows=1,
        cols=len(records),
        horizontal_spacing=0.08,
        subplot_titles=[f"{panel_title(r)}<br>test {fmt_pct(final_value(r, 'test_acc'))}" for r in records],
    )
    for i, r in enumerate(records, start=1):
        cm = np.asarray(r.confusion)
        k = cm.shape[0]
        fig.add_trace(
            go.Heatmap(
                z=cm,
                x=[str(c) for c in range(k)],
                y=[str(c) for c in range(k)],
                coloraxis="coloraxis",
                text=cm,
                texttemplate="%{text}",
                hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
            ),
            row=1,
            col=i,
        )
        fig.update_xaxes(title_text="predicted class", row=1, col=i)
        fig.update_yaxes(title_text="true class" if i == 1 else None, autorange="reversed", row=1, col=i)
    _style_panels(fig, records, col)
    fig.update_layout(
        title="Confusion matrices on the test split (best and worst scheme)",
        coloraxis=dict(colorscale="Blues", showscale=False),
        height=460,
        margin=dict(t=100, b=50, l=60, r=20),
    )
    return fig


# -------------------------------------------------------------------------------------------------- tables


def results_table(records: Sequence[RunRecord], target_loss: float) -> pd.DataFrame:
    """One row per scheme: final losses and accuracies, steps to reach `target_loss`, divergence step."""
    rows = []
    for r in records:
        reached = steps_to_target(r, target_loss)
        rows.append(
            {
                "scheme": r.scheme,
                "label": run_label(r),
                "final train loss": final_value(r, "train_loss"),
                "final test loss": final_value(r, "test_loss"),
                "final train accuracy": final_value(r, "train_acc"),
                "final test accuracy": final_value(r, "test_acc"),
                f"steps to train loss ≤ {target_loss:g}": reached,
                "diverged at step": r.diverged_at,
                "train seconds": r.seconds,
            }
        )
    df = pd.DataFrame(rows)
    # Words, not a raw None: an empty cell here means "not reached" or "did not diverge".
    reach = f"steps to train loss ≤ {target_loss:g}"
    df[reach] = [f"{int(v)}" if v is not None and v == v else "not reached" for v in df[reach].astype(object)]
    df["diverged at step"] = [
        f"{int(v)}" if v is not None and v == v else "no" for v in df["diverged at step"].astype(object)
    ]
    return df


def target_sentence(records: Sequence[RunRecord], target_loss: float) -> str:
    """Which schemes reached the target loss, and when (from the whole-train-split evaluations)."""
    reached, missed = [], []
    for r in records:
        s = steps_to_target(r, target_loss)
        if s is None or (r.diverged_at is not None and s >= r.diverged_at):
            missed.append(run_label(r))
        else:
            reached.append((s, run_label(r)))
    parts = []
    if reached:
        reached.sort()
        parts.append(
            f"Train loss ≤ {target_loss:g} first reached by "
            + ", ".join(f"{lab} at step {s}" for s, lab in reached)
        )
    if missed:
        steps = max(int(r.eval_steps[-1]) for r in records)
        verb = "does" if len(missed) == 1 else "do"
        parts.append(f"{_join(missed)} {verb} not reach train loss ≤ {target_loss:g} within {steps} steps")
    return "; ".join(parts) + "." if parts else ""


def _join(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def confusion_sentence(best: RunRecord, worst: RunRecord) -> str:
    """Best and worst test accuracy, and the class the worst scheme predicts most."""
    b = f"{run_label(best)} classifies {fmt_pct(final_value(best, 'test_acc'))} of the test digits right"
    if best is worst:
        return b + "."
    cm = np.asarray(worst.confusion)
    pred = cm.sum(axis=0)
    top = int(np.argmax(pred))
    share = pred[top] / max(int(pred.sum()), 1)
    acc = final_value(worst, "test_acc")
    w = f"{run_label(worst)} {fmt_pct(acc)}"
    if worst.diverged_at is not None:
        w = f"{run_label(worst)} diverged at step {worst.diverged_at} (its matrix is from its last finite step)"
    return f"{b}; {w}, and it answers “{top}” for {pct(share)} of them."


def per_step_table(records: Sequence[RunRecord]) -> pd.DataFrame:
    """Long table of every step of every scheme: batch loss, the evaluations and per-layer statistics.

    Columns that are recorded every `record_every` steps are empty in between.
    """
    frames = []
    for r in records:
        n = len(r.loss)
        steps = np.arange(n + 1)  # the evaluations include the last step (after the last update)
        df = pd.DataFrame({"scheme": r.scheme, "step": steps})
        batch = np.full(n + 1, np.nan)
        batch[:n] = r.loss
        df["batch_loss"] = batch
        ev = pd.DataFrame(
            {
                "step": np.asarray(r.eval_steps),
                "train_loss": r.train_loss,
                "test_loss": r.test_loss,
                "train_acc": r.train_acc,
                "test_acc": r.test_acc,
            }
        )
        stats = {"step": np.asarray(r.stat_steps)}
        for key in ("grad_norm", "update_ratio", "weight_std", "act_std"):
            arr = np.asarray(r.layer_stats[key])
            for j in range(arr.shape[1]):
                stats[f"{key}_layer{j + 1}"] = arr[:, j]
        df = df.merge(ev, on="step", how="left").merge(pd.DataFrame(stats), on="step", how="left")
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------- sentences (computed)


def loss_sentence(records: Sequence[RunRecord]) -> str:
    """What the loss chart shows, in numbers: each scheme's train loss at the start and the end, and chance.

    "still x (no learning)" only when the loss moved by less than 1 % of chance (ln k) over the whole run.
    """
    k = records[0].confusion.shape[0]
    chance = chance_loss(records)
    steps = records[0].config.steps
    tail = f" Chance (predicting 1/{k} for every class) is ln {k} = {chance:.2f}."
    if steps == 0:
        start = "; ".join(f"{run_label(r)}: {fmt(float(r.train_loss[0]))}" for r in records)
        return f"Train loss on the whole train split at initialization (0 steps) — {start}." + tail
    parts = []
    for r in sorted(records, key=lambda r: _sort_loss(r)):
        label = run_label(r)
        if r.diverged_at is not None:
            parts.append(f"{label} diverged at step {r.diverged_at}")
            continue
        final = final_value(r, "train_loss")
        start = float(r.train_loss[0])
        at_chance = " (chance level)" if abs(final - chance) < 0.01 * chance else ""
        if abs(final - start) < 0.01 * chance:
            parts.append(f"{label}: still {fmt(final)} after {steps} steps (no learning)")
        else:
            parts.append(f"{label}: {fmt(start)} → {fmt(final)}{at_chance}")
    return (
        f"Train loss on the whole train split, start → after {steps} steps — " + "; ".join(parts) + "." + tail
    )


def _sort_loss(r: RunRecord) -> float:
    v = final_value(r, "train_loss")
    return v if math.isfinite(v) else math.inf


def divergence_sentences(records: Sequence[RunRecord]) -> list[str]:
    """One plain sentence per diverged run (what became non-finite and when), from the record."""
    out = []
    for r in records:
        if r.diverged_at is None:
            continue
        what = r.divergence or f"Training stopped at step {r.diverged_at}: the loss became infinite or NaN."
        out.append(
            f"**{run_label(r)} diverged.** {what} Its curves end at step {r.diverged_at} (marked ×); "
            "the other schemes are not affected."
        )
    return out


def accuracy_sentence(records: Sequence[RunRecord]) -> str:
    best, worst = best_and_worst(records)
    k = records[0].confusion.shape[0]
    s = (
        f"Final test accuracy: best {run_label(best)} {fmt_pct(final_value(best, 'test_acc'))}, "
        f"worst {run_label(worst)} {fmt_pct(final_value(worst, 'test_acc'))} "
        f"(guessing would give about {pct(1 / k)})."
    )
    return s


def hist_spread(hist: Histogram, c: int) -> np.ndarray:
    """Per layer, the standard deviation of a linearly binned quantity at checkpoint c (from bin centres)."""
    centres, frac, zero_frac = hist_fractions(hist, c)
    w = np.concatenate([frac, zero_frac[:, None]], axis=1)
    x = np.concatenate([centres, [0.0]])
    mean = (w * x).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-300)
    var = (w * (x[None, :] - mean[:, None]) ** 2).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-300)
    return np.sqrt(var)


def hist_sentence(records: Sequence[RunRecord], checkpoint: int, kind: str = "grad") -> str:
    """Per scheme, the typical size of the quantity in layer 1 and in the output layer at the checkpoint.

    log10abs histograms (gradients): the median |value|; linear ones (weights, activations): the spread.
    """
    parts = []
    for r in records:
        h = r.hists[kind]
        label = run_label(r)
        n = h.counts.shape[1]
        if h.transform != "log10abs":
            sd = hist_spread(h, checkpoint)
            parts.append(f"{label}: spread (std) {fmt(sd[0])} in layer 1, {fmt(sd[-1])} in the output layer")
            continue
        med = hist_median(h, checkpoint)
        _, _, zero_frac = hist_fractions(h, checkpoint)
        all_zero = [j for j in range(n) if zero_frac[j] >= 0.999]
        if len(all_zero) == n:
            parts.append(f"{label}: every entry of every layer is exactly 0")
            continue
        s = f"{label}: {_or_zero(med[0])} in layer 1, {_or_zero(med[-1])} in the output layer"
        if all_zero:
            s += f" (exactly 0 in {_layer_list(all_zero, n)})"
        mostly = float(np.mean(zero_frac))
        if mostly >= 0.25:
            s += f", and {pct(mostly)} of all entries are exactly 0"
        parts.append(s)
    step = int(records[0].hist_steps[checkpoint])
    if records[0].hists[kind].transform == "log10abs":
        return (
            f"At step {step}, the typical size (median of the nonzero |values|) — " + "; ".join(parts) + "."
        )
    return f"At step {step} — " + "; ".join(parts) + "."


def _or_zero(x: float) -> str:
    return "exactly 0" if not math.isfinite(x) else fmt(x)


def _layer_list(js: list[int], n: int) -> str:
    js = sorted(int(j) for j in js)
    if len(js) == n:
        return "every layer"
    if len(js) > 2 and js == list(range(js[0], js[-1] + 1)):
        last = "the output layer" if js[-1] == n - 1 else f"layer {js[-1] + 1}"
        return f"layers {js[0] + 1} to {last}" if js[-1] == n - 1 else f"layers {js[0] + 1}–{js[-1] + 1}"
    return ", ".join(layer_name(j, n) for j in js)


def scheme_gap_sentence(records: Sequence[RunRecord], checkpoint: int, kind: str = "grad") -> str:
    """How many times larger the typical |gradient| of the strongest scheme is than the weakest's, per layer.

    Compares the two schemes furthest apart in layer 1 (among those with nonzero gradients there).
    """
    if len(records) < 2 or records[0].hists[kind].transform != "log10abs":
        return ""
    meds = np.array([hist_median(r.hists[kind], checkpoint) for r in records])  # (S, L+1), NaN = all zero
    logm = np.log10(meds)
    first = logm[:, 0]
    ok = np.isfinite(first)
    if ok.sum() < 2:
        return ""
    hi = int(np.argmax(np.where(ok, first, -np.inf)))
    lo = int(np.argmin(np.where(ok, first, np.inf)))
    gap = 10.0 ** (logm[hi] - logm[lo])
    gap = gap[np.isfinite(gap)]  # layers where either scheme has only exact zeros do not count
    if hi == lo or gap.size == 0 or float(np.min(gap)) < 3.0:
        return ""
    lo_gap, hi_gap = float(np.min(gap)), float(np.max(gap))
    times = (
        f"{_times(lo_gap)} times" if hi_gap / lo_gap < 1.5 else f"{_times(lo_gap)} to {_times(hi_gap)} times"
    )
    if records[hi].config.optimizer == "adam":
        why = "Adam divides every step by the gradient's own size, so compare the step sizes below"
    else:
        why = f"with {records[hi].config.optimizer.upper() if records[hi].config.optimizer == 'sgd' else 'momentum'}"
        why += " and one learning rate, its steps are that much larger"
    return (
        f"Layer by layer, the typical gradient of {run_label(records[hi])} is {times} that of "
        f"{run_label(records[lo])}: {why}."
    )


def _times(x: float) -> str:
    """A ratio to 2 significant digits: 3.2, 56, 10,000, 180,000 (bins are a quarter decade wide)."""
    if x < 100:
        return f"{x:.2g}"
    e = math.floor(math.log10(x)) - 1
    return f"{round(x / 10**e) * 10**e:,.0f}"


def grad_norm_sentence(records: Sequence[RunRecord]) -> str:
    """At step 0: which layers get exactly zero gradient, and how the norm changes from the output to layer 1."""
    parts = []
    for r in records:
        g = np.asarray(r.layer_stats["grad_norm"][0], dtype=np.float64)
        label = run_label(r)
        zero = np.flatnonzero(g == 0)
        if zero.size:
            parts.append(f"{label}: exactly zero gradient in {_layer_list(list(zero), len(g))}")
        elif np.all(np.isfinite(g)) and g[-1] > 0:
            parts.append(f"{label}: layer 1 gets {fmt(g[0] / g[-1])}× the output layer's gradient norm")
    return "At initialization (step 0) — " + "; ".join(parts) + "." if parts else ""


def update_ratio_sentence(records: Sequence[RunRecord]) -> str:
    """Per scheme, the median update-to-weight ratio over training of its slowest and its fastest layer."""
    parts = []
    for r in records:
        ratio = np.asarray(r.layer_stats["update_ratio"], dtype=np.float64)
        label = run_label(r)
        n = ratio.shape[1]
        taken = ratio[np.isfinite(ratio).any(axis=1) | np.isinf(ratio).any(axis=1)]  # rows of updates taken
        if taken.size == 0:
            parts.append(f"{label}: no update was taken")
            continue
        frozen = [j for j in range(n) if np.all(taken[:, j] == 0)]
        from_zero = [j for j in range(n) if np.isinf(taken[:, j]).any()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a layer that never moved: all-NaN column
            med = np.nanmedian(np.where(np.isfinite(taken) & (taken > 0), taken, np.nan), axis=0)
        if len(frozen) == n:
            parts.append(f"{label}: no weight matrix ever moves (ratio 0)")
            continue
        s = ""
        if np.isfinite(med).any():
            lo, hi = int(np.nanargmin(med)), int(np.nanargmax(med))
            s = f"{label}: {fmt(med[lo])} ({layer_name(lo, n)}) to {fmt(med[hi])} ({layer_name(hi, n)})"
        else:
            s = f"{label}:"
        if frozen:
            s += f"; {_layer_list(frozen, n)} never move"
        if from_zero:
            s += f"; {_layer_list(from_zero, n)} start from all-zero weights (ratio infinite at first)"
        parts.append(s)
    return (
        "Median update-to-weight ratio per step — "
        + "; ".join(parts)
        + ". The rule of thumb is about 1e-3: far below it a layer barely learns, far above it training is unstable."
    )


def boundary_sentence(records: Sequence[RunRecord]) -> str:
    """How many classes each scheme's decision regions cover, with its test accuracy."""
    k = records[0].confusion.shape[0]
    parts = []
    for r in records:
        if r.boundary is None:
            continue
        present = np.unique(np.asarray(r.boundary))
        acc = fmt_pct(final_value(r, "test_acc"))
        if r.diverged_at is not None:
            parts.append(f"{run_label(r)} diverged (regions from its last finite step)")
        elif present.size == 1:
            parts.append(f"{run_label(r)} predicts class {int(present[0])} everywhere (test {acc})")
        else:
            parts.append(f"{run_label(r)} has regions for {present.size} of {k} classes (test {acc})")
    return "; ".join(parts) + "." if parts else ""
