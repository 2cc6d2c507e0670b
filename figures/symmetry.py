"""Figures and computed sentences for the Symmetry lesson: a symmetric start beside a small random one.

Pure functions, records in and Plotly figures or plain sentences out; no streamlit here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.config import ExperimentConfig
from core.records import DataSplit, RunRecord
from i18n.numbers import num, pct

# Okabe-Ito colours (colour-blind safe) for the classes of the data set; the schemes use the
# app-wide palette passed in by the page.
CLASS_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00")
LAYER_DASHES = ("solid", "dash", "dot", "dashdot")
# Two incoming weight vectors (columns of W) count as equal when they differ by at most this,
# relative to the largest weight of the matrix (snapshots are float32).
COLUMN_TOL = 1e-5
# Mean |cosine| at or above which a layer's weight vectors count as parallel (one direction, rank 1).
PARALLEL = 0.95


class Panel(NamedTuple):
    """One trained start as the page shows it: a label, its record and its colour."""

    label: str
    record: RunRecord
    color: str


def start_label(config: ExperimentConfig) -> str:
    """A short name of the start `config` trains: its (one) scheme with its parameter, and a non-zero bias."""
    from core.initializers import run_label

    label = run_label(config.schemes[0], config)
    if config.scale != 1.0:
        label += f" ×{config.scale:g}"
    bias = {
        "zeros": "",
        "constant": f", bias {config.bias_value:g}",
        "normal": f", bias σ = {config.bias_value:g}",
        "standard_uniform": ", bias ±1/√fan_in",
    }.get(config.bias_init, f", bias {config.bias_init}")
    return label + bias


# ---------------------------------------------------------------------------------------------
# numbers the figures and sentences share


def hidden_depth(record: RunRecord) -> int:
    """Number of hidden layers L of the record's network."""
    return len(record.sizes) - 2


def distinct_columns(W: np.ndarray, tol: float = COLUMN_TOL) -> int:
    """Number of distinct columns (units' incoming weight vectors) of W, equal within tol * max|W|."""
    W = np.asarray(W, dtype=np.float64)
    if W.shape[1] == 0:
        return 0
    if not np.all(np.isfinite(W)):
        return int(W.shape[1])
    limit = tol * max(float(np.max(np.abs(W))), 1e-30)
    representatives: list[np.ndarray] = []
    for j in range(W.shape[1]):
        col = W[:, j]
        if not any(np.max(np.abs(col - r)) <= limit for r in representatives):
            representatives.append(col)
    return len(representatives)


def mean_abs_cosine(W: np.ndarray) -> float:
    """Mean |cosine| over all pairs of nonzero columns of W (1 = all parallel); NaN if fewer than 2."""
    W = np.asarray(W, dtype=np.float64)
    norms = np.linalg.norm(W, axis=0)
    keep = norms > 1e-12 * max(float(norms.max(initial=0.0)), 1e-300)
    U = W[:, keep] / norms[keep]
    m = U.shape[1]
    if m < 2:
        return float("nan")
    C = np.abs(U.T @ U)
    return float((C.sum() - np.trace(C)) / (m * (m - 1)))


def class_frequencies(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Fraction of each class in the labels y."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def frequency_loss(y: np.ndarray, n_classes: int) -> float:
    """Cross-entropy of always predicting the class frequencies: the best a constant model can do."""
    p = class_frequencies(y, n_classes)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def _pct(values: Sequence[float]) -> str:
    return ", ".join(pct(v) for v in values)


def when(steps: int) -> str:
    """ "after 300 steps", or "at initialization" for a run of 0 steps."""
    return "at initialization" if steps == 0 else f"after {steps} step{'s' if steps != 1 else ''}"


def _last_finite(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    finite = a[np.isfinite(a)]
    return float(finite[-1]) if finite.size else float("nan")


def final_test_acc(record: RunRecord) -> float:
    """Test accuracy at the last step where it is finite (NaN if never)."""
    return _last_finite(record.test_acc)


# ---------------------------------------------------------------------------------------------
# figures


def loss_figure(panels: Sequence[Panel], baseline: float | None = None) -> go.Figure:
    """Train loss (whole train split) over the steps of every panel; a dashed line at `baseline`."""
    fig = go.Figure()
    for p in panels:
        fig.add_trace(
            go.Scatter(
                x=np.asarray(p.record.eval_steps),
                y=np.asarray(p.record.train_loss, dtype=np.float64),
                mode="lines",
                name=p.label,
                line={"color": p.color, "width": 2.5},
                hovertemplate="step %{x}<br>train loss %{y:.4f}<extra>" + p.label + "</extra>",
            )
        )
    if baseline is not None and np.isfinite(baseline):
        fig.add_hline(
            y=baseline,
            line={"color": "grey", "dash": "dash", "width": 1},
            annotation_text="predicting the class frequencies",
            annotation_position="top right",
        )
    fig.update_layout(
        xaxis_title="step",
        yaxis_title="loss on the training set",
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
        height=340,
    )
    return fig


def abs_cosine_curve(record: RunRecord, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """(checkpoint steps, mean |cosine| of hidden `layer`'s weight vectors) from the weight snapshots.

    |cosine| because a unit's sign carries no meaning (for tanh, (w, b, v) and (-w, -b, -v) compute
    the same): vectors pointing the same or the opposite way count as parallel.
    """
    steps = np.asarray(record.hist_steps)
    if not record.weight_snapshots:
        return steps[:0], np.zeros(0)
    return steps, np.array([mean_abs_cosine(snap[layer]) for snap in record.weight_snapshots])


def distinct_figure(panels: Sequence[Panel]) -> go.Figure:
    """Distinct units (record.symmetry) and mean |cosine| of weight vectors of each hidden layer, per panel."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("distinct units", "mean |cosine| of weight vectors"),
        horizontal_spacing=0.12,
    )
    width = 1
    for p in panels:
        rec = p.record
        width = max(width, *rec.sizes[1:-1])
        for layer in range(hidden_depth(rec)):
            dash = LAYER_DASHES[layer % len(LAYER_DASHES)]
            name = f"{p.label}, layer {layer + 1}"
            fig.add_trace(
                go.Scatter(
                    x=np.asarray(rec.stat_steps),
                    y=np.asarray(rec.symmetry["distinct"][:, layer], dtype=np.float64),
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    line={"color": p.color, "dash": dash, "width": 2.5},
                    hovertemplate="step %{x}<br>%{y:.0f} distinct units<extra>" + name + "</extra>",
                ),
                row=1,
                col=1,
            )
            steps, cos = abs_cosine_curve(rec, layer)
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
                    hovertemplate="step %{x}<br>mean |cosine| %{y:.3f}<extra>" + name + "</extra>",
                ),
                row=1,
                col=2,
            )
    fig.update_yaxes(range=[0, width * 1.05 + 0.5], title_text="units", row=1, col=1)
    fig.update_yaxes(range=[0, 1.05], title_text="1 = all parallel", row=1, col=2)
    fig.update_xaxes(title_text="step")
    fig.update_annotations(font_size=13)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
        margin={"t": 40, "b": 10, "l": 10, "r": 10},
        height=430,
    )
    return fig


def _input_labels(rec: RunRecord, layer: int) -> list[str]:
    fan_in = rec.sizes[layer]
    if layer == 0:
        return [f"x{i + 1}" for i in range(fan_in)]
    return [str(i + 1) for i in range(fan_in)]


def weight_heatmap_figure(panels: Sequence[Panel], checkpoint: int, layer: int) -> go.Figure:
    """Incoming weight matrix W (fan_in x units) of hidden `layer` (0-based) at checkpoint index
    `checkpoint` of every panel: one column per unit, so identical units show as identical columns.

    Each panel has its own colour scale, symmetric about 0 (white = 0).
    """
    n = len(panels)
    fig = make_subplots(
        rows=1, cols=n, subplot_titles=[p.label for p in panels], horizontal_spacing=0.08 if n > 1 else 0.0
    )
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
                y=_input_labels(p.record, layer),
                coloraxis=axis,
                xgap=1 if W.shape[1] <= 32 else 0,
                ygap=1 if W.shape[0] <= 32 else 0,
                hovertemplate="unit %{x}<br>from %{y}<br>w = %{z:.4g}<extra></extra>",
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
                        "y": -0.32,
                        "yanchor": "top",
                        "len": domain[1] - domain[0],
                        "thickness": 8,
                        "title": {"text": "w", "side": "right"},
                    },
                }
            }
        )
    source = "input" if layer == 0 else f"unit of layer {layer}"
    fig.update_xaxes(title_text=f"unit of hidden layer {layer + 1}", showgrid=False, zeroline=False)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False, type="category")
    fig.update_yaxes(title_text=f"weight from {source}", row=1, col=1)
    fig.update_yaxes(showticklabels=panels[0].record.sizes[layer] <= 16, row=1, col=1)
    for col in range(2, n + 1):
        fig.update_yaxes(showticklabels=False, row=1, col=col)
    fig.update_annotations(font_size=13)
    fig.update_layout(margin={"t": 40, "b": 70, "l": 10, "r": 10}, height=340 if layer == 0 else 440)
    return fig


def boundary_z(record: RunRecord) -> np.ndarray:
    """Colour value of the boundary heatmap: predicted class + confidence in [0, 0.999].

    Confidence rescales the max class probability from 1/k (no preference) to 1 (certain).
    """
    k = record.sizes[-1]
    cls = np.asarray(record.boundary, dtype=np.float64)
    prob = np.asarray(record.boundary_prob, dtype=np.float64)
    conf = np.clip((prob - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 0.999)
    z = cls + conf
    z[~np.isfinite(z)] = np.nan
    return z


def _boundary_colorscale(k: int, colors: Sequence[str]) -> list[list]:
    scale: list[list] = []
    for c in range(k):
        rgb = _hex_to_rgb(colors[c % len(colors)])
        light = tuple(int(255 - (255 - v) * 0.12) for v in rgb)
        strong = tuple(int(255 - (255 - v) * 0.6) for v in rgb)
        scale.append([c / k, f"rgb{light}"])
        scale.append([(c + 1) / k - 1e-9 if c < k - 1 else 1.0, f"rgb{strong}"])
    return scale


def _hex_to_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def boundary_figure(
    panels: Sequence[Panel], split: DataSplit | None, class_colors: Sequence[str] = CLASS_COLORS
) -> go.Figure:
    """Decision regions of every panel on the 2-D data (shade = confidence), test points on top."""
    titles = [p.label for p in panels]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=titles, horizontal_spacing=0.06)
    for i, p in enumerate(panels):
        rec = p.record
        if rec.boundary is None or rec.boundary_extent is None:
            continue
        k = rec.sizes[-1]
        x0, x1, y0, y1 = rec.boundary_extent
        G_y, G_x = np.asarray(rec.boundary).shape
        fig.add_trace(
            go.Heatmap(
                z=boundary_z(rec).astype(np.float32),  # float32 halves the payload; colours need no more
                x=np.linspace(x0, x1, G_x),
                y=np.linspace(y0, y1, G_y),
                zmin=0,
                zmax=k,
                colorscale=_boundary_colorscale(k, class_colors),
                showscale=False,
                hoverinfo="skip",
            ),
            row=1,
            col=i + 1,
        )
        if split is not None:
            for c in range(k):
                pts = split.X_test[split.y_test == c]
                fig.add_trace(
                    go.Scatter(
                        x=pts[:, 0],
                        y=pts[:, 1],
                        mode="markers",
                        name=f"class {c}",
                        legendgroup=f"class {c}",
                        showlegend=i == 0,
                        marker={
                            "color": class_colors[c % len(class_colors)],
                            "size": 6,
                            "line": {"color": "white", "width": 0.8},
                        },
                        hovertemplate=f"test point, class {c}<extra></extra>",
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


# ---------------------------------------------------------------------------------------------
# computed sentences


def _layers_phrase(layers: Sequence[int]) -> str:
    names = [str(i + 1) for i in layers]
    if len(names) == 1:
        return f"hidden layer {names[0]}"
    return "hidden layers " + ", ".join(names[:-1]) + " and " + names[-1]


def all_weight_grads_zero(record: RunRecord) -> bool:
    """True when every recorded weight gradient of every layer is exactly 0 (a dead symmetric start)."""
    g = np.asarray(record.layer_stats["grad_norm"], dtype=np.float64)
    return bool(g.size) and bool(np.all(g == 0.0))


def hidden_grads_zero(record: RunRecord) -> bool:
    """True when every recorded weight gradient of every hidden layer is exactly 0."""
    L = hidden_depth(record)
    g = np.asarray(record.layer_stats["grad_norm"], dtype=np.float64)[:, :L]
    return bool(g.size) and bool(np.all(g == 0.0))


def final_distinct(record: RunRecord) -> np.ndarray:
    """Distinct units of each hidden layer at the last recorded step, as ints."""
    return np.asarray(record.symmetry["distinct"][-1], dtype=np.float64).round().astype(int)


def distinct_text(record: RunRecord) -> str:
    """Distinct units at the last step as a short metric: "1 of 16", or per layer "1 · 3 of 16".

    "parallel" is added when a layer's units differ but their weight vectors still point along one line
    (mean |cosine| ≥ PARALLEL at the last snapshot): a rank-1 bottleneck, not a success.
    """
    dist = final_distinct(record)
    width = record.sizes[1]
    text = (
        f"{dist[0]} of {width}"
        if np.all(dist == dist[0])
        else " · ".join(str(d) for d in dist) + f" of {width}"
    )
    # Only after an equal-weights start, and only where the weight vectors have more than 2 coordinates
    # (random 2-D vectors are often nearly parallel by chance).
    parallel = starts_symmetric(record) and any(
        dist[j] > 1
        and record.sizes[j] > 2
        and (cos := abs_cosine_curve(record, j)[1]).size
        and cos[-1] >= PARALLEL
        for j in range(hidden_depth(record))
    )
    if parallel:
        text += ", parallel"
    return text


def loss_sentence(sym: Panel, ref: Panel, baseline: float | None) -> str:
    """What the loss chart shows, from both runs' train losses."""
    a, b = sym.record, ref.record
    steps = int(a.eval_steps[-1])
    a0, a1 = float(a.train_loss[0]), _last_finite(a.train_loss)
    b0, b1 = float(b.train_loss[0]), _last_finite(b.train_loss)
    if steps == 0:
        text = f"At initialization the train loss of **{sym.label}** is {a0:.3f}; **{ref.label}**: {b0:.3f}."
    else:
        text = (
            f"After {steps} steps the train loss of **{sym.label}** went from {a0:.3f} to {a1:.3f}; "
            f"**{ref.label}** went from {b0:.3f} to {b1:.3f}."
        )
    if baseline is not None and np.isfinite(a1) and abs(a1 - baseline) < 0.01 * max(baseline, 1e-9):
        text += (
            f" {sym.label} ends on the dashed line ({baseline:.3f}): it has learned nothing but the "
            "class frequencies."
        )
    for p in (sym, ref):
        if p.record.divergence:
            text += f" {p.label}: {p.record.divergence}"
    return text


def dead_start_sentence(record: RunRecord, split: DataSplit | None) -> str | None:
    """No gradient reaches the hidden weights: the all-zeros start (tanh, ReLU), or saturated units.

    Returns None when some hidden weight gradient was nonzero at some recorded step.
    """
    if not hidden_grads_zero(record):
        return None
    act = record.config.activation
    L = hidden_depth(record)
    k = record.sizes[-1]
    layers = f"all {L} hidden layer{'s' if L > 1 else ''}"
    zero_start = bool(record.weight_snapshots) and all(
        np.all(np.asarray(W) == 0.0) for W in record.weight_snapshots[0]
    )
    if not zero_start:
        text = (
            f"Every recorded hidden weight gradient is exactly 0 (‖∂loss/∂W‖ = 0 in {layers} at every "
            f"one of the {len(record.stat_steps)} recorded steps)"
        )
        sat = float(record.layer_stats["saturation"][-1, 0])
        if np.isfinite(sat) and sat > 0:
            text += (
                f"; at the end {pct(sat)} of hidden layer 1's outputs are saturated (beyond ±0.99, "
                f"where {act} is flat and passes almost no gradient back)"
            )
        return text + "."
    text = (
        f"With zero weights and {act}, every hidden weight gradient is exactly 0 "
        f"(‖∂loss/∂W‖ = 0 in {layers} at every recorded step)"
    )
    out_w_zero = bool(np.all(np.asarray(record.final_weights[-1]) == 0.0))
    if out_w_zero and all_weight_grads_zero(record):
        predicted = softmax(record.final_biases[-1])
        text += (
            ": only the output bias learned, and the network predicts the same probabilities "
            f"for every point ({_pct(predicted)})"
        )
        if split is not None:
            freq = class_frequencies(split.y_train, k)
            text += f" — the class frequencies of the training set are {_pct(freq)}"
    return text + "."


def symmetry_sentence(panel: Panel) -> str:
    """Per-layer verdict on the symmetry of one run at its last recorded step."""
    rec = panel.record
    L = hidden_depth(rec)
    widths = rec.sizes[1:-1]
    steps = int(rec.stat_steps[-1])
    dist = final_distinct(rec)
    start = np.asarray(rec.symmetry["distinct"][0], dtype=np.float64).round().astype(int)
    stuck = [i for i in range(L) if dist[i] == 1]
    still = "still " if steps else ""
    full = [i for i in range(L) if dist[i] == widths[i]]
    parts = []
    if stuck:
        n = widths[stuck[0]]
        if len(stuck) == L and L > 1:
            parts.append(
                f"All {n} units of each of the {L} hidden layers are {still}identical {when(steps)}: "
                "each layer acts like a single unit."
            )
        else:
            parts.append(
                f"All {n} units of {_layers_phrase(stuck)} are {still}identical {when(steps)}: "
                f"the layer{'s act' if len(stuck) > 1 else ' acts'} like a single unit."
            )
    if full and len(full) == L:
        parts.append(f"Every one of the {widths[0]} units of every hidden layer is different {when(steps)}.")
    elif full:
        parts.append(f"In {_layers_phrase(full)} all units are different {when(steps)}.")
    partial = [i for i in range(L) if i not in stuck and i not in full]
    for i in partial:
        parts.append(
            f"Hidden layer {i + 1} started with {start[i]} distinct units of {widths[i]} "
            f"and has {dist[i]} {when(steps)}."
        )
    return f"**{panel.label}**: " + " ".join(parts)


def moved_but_identical_sentence(panel: Panel) -> str | None:
    """The constant / sigmoid subtlety: the weights moved, yet every column is still identical."""
    rec = panel.record
    if not rec.weight_snapshots:
        return None
    dist = final_distinct(rec)
    moved = {}
    for layer in range(hidden_depth(rec)):
        W0 = np.asarray(rec.weight_snapshots[0][layer], dtype=np.float64)
        W1 = np.asarray(rec.final_weights[layer], dtype=np.float64)
        change = float(np.linalg.norm(W1 - W0))
        if dist[layer] == 1 and distinct_columns(W1) == 1 and np.isfinite(change) and change > 1e-6:
            moved[layer] = change
    if not moved:
        return None
    norms = ", ".join(f"{num(v, 3)} in layer {i + 1}" for i, v in moved.items())
    text = f"**{panel.label}**: "
    first = next(iter(moved))
    start_act = float(rec.layer_stats["act_mean"][0, first])
    if rec.config.activation == "sigmoid" and np.all(np.asarray(rec.weight_snapshots[0][first]) == 0):
        text += (
            f"with zero weights every sigmoid unit starts at {start_act:.2f} (not 0), so the weights do get "
            "a gradient. "
        )
    text += (
        f"The weights moved (‖W_end − W_0‖ = {norms}) but every column is still identical: every unit "
        "got the same update at every step."
    )
    return text


def starts_symmetric(record: RunRecord) -> bool:
    """True when, in every hidden layer, all incoming weight vectors start identical (snapshot at step 0)."""
    if not record.weight_snapshots:
        return False
    return all(distinct_columns(W) == 1 for W in record.weight_snapshots[0][: hidden_depth(record)])


def broken_badly_sentence(panel: Panel, reference: Panel) -> str | None:
    """Equal weights with random biases: the units differ from the start, but only through their biases,
    and their weight vectors stay (nearly) parallel for long. None for any other start.
    """
    rec = panel.record
    start = np.asarray(rec.symmetry["distinct"][0], dtype=np.float64).round().astype(int)
    if not starts_symmetric(rec) or start.max() <= 1:
        return None
    L = hidden_depth(rec)
    # The widest hidden layer past the 2-D input says most: random vectors in many dimensions are
    # nearly orthogonal, so a mean |cosine| near 1 there cannot be chance.
    layer = L - 1
    steps, cos = abs_cosine_curve(rec, layer)
    _, ref_cos = abs_cosine_curve(reference.record, layer)
    width = rec.sizes[layer + 1]
    text = (
        f"**{panel.label}**: the units start different only through their random biases "
        f"({start[layer]} distinct of {width} in hidden layer {layer + 1}); every weight vector starts the same."
    )
    parallel = [int(s) for s, c in zip(steps[1:], cos[1:]) if np.isfinite(c) and c >= 0.99]
    end_cos, end_ref = float(cos[-1]), float(ref_cos[-1]) if ref_cos.size else float("nan")
    if parallel:
        text += (
            f" The weight vectors of hidden layer {layer + 1} move together: mean |cosine| ≥ 0.99 "
            f"until step {parallel[-1]}"
        )
        if parallel[-1] != int(steps[-1]):
            text += f", {end_cos:.2f} at step {int(steps[-1])}"
    elif np.isfinite(end_cos):
        text += f" At step {int(steps[-1])} the weight vectors of hidden layer {layer + 1} have mean |cosine| {end_cos:.2f}"
    else:
        return text
    text += f" ({reference.label}: {end_ref:.2f})."
    if np.isfinite(end_cos) and end_cos >= 0.95:
        text += (
            " Symmetry is broken, but badly: the weight vectors are nearly parallel, so the layer is a "
            "rank-1 bottleneck. Its units compute different functions (their biases differ) of one and "
            "the same projection of the input."
        )
    elif np.isfinite(end_cos) and np.isfinite(end_ref) and end_cos > end_ref + 0.05:
        text += " Symmetry is broken, but slowly: the units are still more alike than random ones."
    return text


def heatmap_sentence(panels: Sequence[Panel], checkpoint: int, layer: int) -> str:
    """Counts the distinct columns in exactly the matrices the heatmap shows (and flags parallel ones)."""
    parts = []
    for p in panels:
        W = p.record.weight_snapshots[checkpoint][layer]
        n = W.shape[1]
        d = distinct_columns(W)
        if d == 1:
            what = f"all {n} columns are identical"
        elif d == n:
            what = f"all {n} columns differ"
        else:
            what = f"{d} distinct columns of {n}"
        cos = mean_abs_cosine(W)
        if d > 1 and np.isfinite(cos) and cos >= 0.99:
            what += f", but they are parallel (mean |cosine| {cos:.2f}): they differ only in length and sign"
        parts.append(f"{p.label}: {what}")
    step = int(panels[0].record.hist_steps[checkpoint])
    return f"Step {step}, hidden layer {layer + 1} — " + "; ".join(parts) + "."


def accuracy_sentence(panels: Sequence[Panel], split: DataSplit | None) -> str:
    """Final test accuracy of every run, against always guessing the most frequent class."""
    parts = [f"{p.label}: {pct(final_test_acc(p.record))}" for p in panels]
    text = f"Test accuracy {when(int(panels[0].record.eval_steps[-1]))} — " + "; ".join(parts)
    if split is not None:
        majority = float(class_frequencies(split.y_test, panels[0].record.sizes[-1]).max())
        text += f" (always guessing the most frequent class scores {pct(majority)})"
    return text + "."
