"""Lesson 1, symmetry: why weights must not all start equal. Your start is trained beside a small random one.

Widgets -> two one-scheme configs (yours, the reference) -> one cached stacked run -> figures.symmetry.
"""

from __future__ import annotations

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import streamlit as st

from core import predict as ask
from core.config import BIAS_INITS, DATASETS
from figures import symmetry as fs
from figures import style
from i18n.numbers import pct
from ui import charts, controls, nav, predict, runs, share, takehome

PAGE = "symmetry"
# The small random start every run is compared with: the usual, correct choice (random weights, zero biases).
REFERENCE = {
    "schemes": ("xavier_uniform",),
    "scale": 1.0,
    "gain": "1",
    "bias_init": "zeros",
    "bias_value": 0.0,
}
# Page defaults: a symmetric start, 2 hidden layers, and momentum (it trains the small random starts within
# 300 steps, and an elementwise optimizer keeps equal units equal just like SGD and Adam).
DEFAULTS = {
    "schemes": ("constant",),
    "activation": "tanh",
    "depth": 2,
    "width": 16,
    "optimizer": "momentum",
    "lr": 0.1,
    "steps": 300,
    "dataset": "spiral",
}
FIXED = {"n_checkpoints": 11}  # weight snapshots every 30 steps of 300: the heatmap's step slider
WIDTHS = (2, 4, 8, 16, 32, 64)  # the weight snapshots are kept up to this size
STEP_OPTIONS = (0, 50, 100, 150, 200, 300, 400, 500, 750, 1000)


@st.fragment
def weight_matrix(panels: list[fs.Panel]) -> None:
    """The heatmap of one hidden layer's incoming weights at a checkpoint; scrubbing it never retrains."""
    rec = panels[0].record
    if not rec.weight_snapshots:
        st.info("This network is too large to keep copies of its weights; pick fewer units to see them.")
        return
    layers = list(range(1, fs.hidden_depth(rec) + 1))
    steps = [int(s) for s in rec.hist_steps]
    # A layer or step kept from a larger network of an earlier run is not offered any more: start over.
    if st.session_state.get("sym_step") not in steps:
        st.session_state["sym_step"] = steps[-1]
    c1, c2 = st.columns([1, 2])
    if "layer" in st.session_state and st.session_state["layer"] not in layers:
        del st.session_state["layer"]  # a layer of a deeper network of an earlier run: back to the default
    layer = c1.radio(
        "Hidden layer", layers, index=len(layers) - 1, key="layer", bind="query-params", horizontal=True
    )
    controls.record("layer", "layer", int(layer), f"one of {', '.join(map(str, layers))}", layers)
    controls.refresh_after_fragment("layer", int(layer))
    step = steps[0]
    if len(steps) > 1:
        step = c2.select_slider(
            "Step", options=steps, key="sym_step", help="Copies of the weights are kept at these steps."
        )
    ck = steps.index(step)
    charts.show(fs.weight_heatmap_figure(panels, ck, layer - 1), key="sym_heatmap")
    st.markdown(fs.heatmap_sentence(panels, ck, layer - 1))


nav.through_app()
share.begin(PAGE)

st.title("Why not start at zero? Symmetry")
st.markdown(
    "If the units of a layer start with equal incoming weights — zero or any constant *c* — **and** equal "
    "biases, and the weights going out of them are equal too, every unit of that layer computes the same "
    "function of the input, receives the same gradient and takes the same step (with SGD, momentum or Adam "
    "alike). In exact arithmetic they stay copies of each other at every step: a layer of many units works "
    "like a single unit. In floating point the tie is unstable: rounding differences of about 10⁻¹⁶ can "
    "grow until the units differ, but too slowly and too weakly to train well. Random biases with equal "
    "weights break the tie only partly (see below). Below, the start you choose is trained beside a small "
    "random start (Xavier uniform weights, zero biases) on the same data, in the same mini-batches, with the "
    "same seed."
)
st.latex(
    r"W^{(0)}_{:,i} = W^{(0)}_{:,j},\ b^{(0)}_i = b^{(0)}_j,\ W^{(0)}_{\text{out};\,i,:} = "
    r"W^{(0)}_{\text{out};\,j,:}\ \text{for all units } i, j"
    r"\;\Longrightarrow\; W^{(t)}_{:,i} = W^{(t)}_{:,j} \ \text{at every step } t \text{ (exact arithmetic)}"
)
st.caption(
    "Symbols: W the layer's incoming weights (column i belongs to unit i), b its biases, W_out the weights "
    "from its units to the next layer (row i), t the training step. Distinct units: units whose incoming "
    "weights and bias differ (by more than 10⁻⁵ of the largest weight). Mean |cosine|: the mean over pairs of "
    "units of the absolute cosine between their incoming weight vectors (1 = parallel, near 0 = unrelated)."
)

left, right = st.columns([1, 3])
with charts.controls(left):
    scheme = controls.schemes(multi=False, default=DEFAULTS["schemes"], label="Your start: weights")[0]
    if scheme == "constant":
        controls.weight_const()
    elif scheme in ("normal", "truncated_normal"):
        controls.weight_std()
    elif scheme == "uniform":
        controls.weight_bound()
    bias = controls.bias_init(options=BIAS_INITS, label="Your start: biases")
    if bias in ("constant", "normal"):
        controls.bias_value(default=0.1, min_value=0.0 if bias == "normal" else None)
    controls.activation(default=DEFAULTS["activation"], options=("tanh", "relu", "sigmoid"))
    controls.depth(default=DEFAULTS["depth"], min_value=1, max_value=3)
    controls.width(default=DEFAULTS["width"], options=WIDTHS)
    controls.optimizer(default=DEFAULTS["optimizer"])
    controls.lr(default=DEFAULTS["lr"])
    controls.steps(default=DEFAULTS["steps"], min_value=0, max_value=1000)
    controls.dataset(
        default=DEFAULTS["dataset"], options=tuple(d for d in DATASETS if d not in ("digits", "gaussian"))
    )
    controls.seed()

with right:
    student = share.report(controls.config(**FIXED), later=("layer",))
    reference = student.replace(**REFERENCE)
    pair = runs.run_pair(student, reference)
    if pair is None:
        st.stop()
    you = fs.Panel(fs.start_label(student), pair[0], style.scheme_color(student.schemes[0]))
    ref = fs.Panel(
        fs.start_label(reference) + " (reference)", pair[1], style.scheme_color(reference.schemes[0])
    )
    panels = [you, ref]
    split = runs.data_split(
        student.dataset, student.n_samples, student.noise, student.n_classes, student.data_seed
    )
    if not predict.gate(PAGE, [ask.symmetry(you.record)]):
        st.stop()
    if student == reference:
        st.caption("Your start is the reference start: pick another initialization to compare.")
    for p in panels:
        if p.record.divergence:
            st.warning(f"{p.label}: {p.record.divergence}", icon=":material/warning:")

    k = you.record.sizes[-1]
    metrics = st.columns(4)
    for col, p, who in ((metrics[0], you, "your start"), (metrics[1], ref, "reference")):
        col.metric(
            f"Distinct units, {who}",
            fs.distinct_text(p.record),
            help="At the last step, per hidden layer: units whose incoming weights and bias differ. "
            "Distinct units alone do not mean the network learned: read it beside the test accuracy.",
        )
    for col, p, who in ((metrics[2], you, "your start"), (metrics[3], ref, "reference")):
        col.metric(f"Test accuracy, {who}", pct(fs.final_test_acc(p.record)))

    st.header("Does it learn?", anchor=False)
    baseline = fs.frequency_loss(split.y_train, k)
    charts.show(fs.loss_figure(panels, baseline))
    st.markdown(fs.loss_sentence(you, ref, baseline))
    dead = fs.dead_start_sentence(you.record, split)
    if dead:
        st.markdown(dead)

    st.header("Are the units still copies of each other?", anchor=False)
    charts.show(fs.distinct_figure(panels))
    for sentence in (
        fs.symmetry_sentence(you),
        fs.moved_but_identical_sentence(you),
        fs.broken_badly_sentence(you, ref),
        fs.symmetry_sentence(ref),
    ):
        if sentence:
            st.markdown(sentence)

    st.header("The weights: one column per unit", anchor=False)
    st.caption("Identical units have identical columns. Pick a layer and scrub through training.")
    weight_matrix(panels)

    st.header("What each network learned", anchor=False)
    charts.show(fs.boundary_figure(panels, split))
    st.markdown(fs.accuracy_sentence(panels, split))

    takehome.show(student, PAGE, what="your start")
    share.link()
    predict.share_option()
