"""Lesson 2, depth: why weights must be neither too small nor too large. The signal and the gradient, layer by layer.

Widgets -> one-scheme config -> cached run (step 0 plus a short training run) -> figures.depth, with the theory.
"""

from __future__ import annotations

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import streamlit as st

from core.records import RunRecord
from figures import depth as fd
from ui import charts, controls, nav, runs, share, style

PAGE = "depth"
# Page defaults: the classic tutorial start N(0, 0.01²) in 10 tanh layers of 64 units, whose signal collapses,
# and a short training run; at these sizes the page computes in well under a second.
DEFAULTS = {
    "schemes": ("normal",),
    "weight_std": 0.01,
    "depth": 10,
    "width": 64,
    "activation": "tanh",
    "batch_size": 256,
    "steps": 100,
}
FIXED = {"record_every": 10, "n_checkpoints": 6}
SCALES = tuple(s for s in controls.SCALE_GRID if 0.1 <= s <= 10)  # the lesson's log slider: 0.1× to 10×
STEPS_MAX = 1000


@st.fragment
def run_charts(record: RunRecord, prediction: fd.Prediction | None, input_std: float, color: str) -> None:
    """Everything drawn from the run; the step slider reruns only this fragment, never the training."""
    steps = [int(s) for s in record.hist_steps]
    if st.session_state.get("depth_step") not in steps:
        st.session_state["depth_step"] = steps[0]
    step = steps[0]
    if len(steps) > 1:
        step = st.select_slider(
            "Show the network at training step",
            options=steps,
            key="depth_step",
            help="Step 0 is the initialization; the theory line is the prediction for step 0.",
        )
    c = steps.index(step)

    st.subheader("Standard deviation, layer by layer")
    charts.show(
        fd.std_profile(record, step, prediction, input_std, color),
        key="depth_std",
        alt="Std of activations and gradients per layer, measured and predicted, on a log axis",
    )
    st.markdown(fd.theory_sentence(record, prediction, input_std))
    log_hist, depth = record.hists["act_log"], len(record.sizes) - 2
    charts.show(
        fd.log_activation_heatmap(log_hist, depth, c, step),
        key="depth_log_act",
        alt="Heatmap of log10 of the activations' size per layer",
    )
    st.markdown(fd.log_activation_sentence(log_hist, depth, c, step))

    st.subheader("Histograms per layer")
    left, right = st.columns(2)
    for where, kind in ((left, "act"), (right, "grad")):
        with where:
            charts.show(
                fd.histogram_figure(record, kind, c, color),
                key=f"depth_hist_{kind}",
                alt=f"Histogram of the {fd.HIST_TITLES[kind]} per layer",
            )
            st.markdown(fd.histogram_sentence(record, kind, c))

    st.subheader("Saturated or dead units")
    charts.show(
        fd.saturation_figure(record, step, color),
        key="depth_health",
        alt="Share of saturated or dead units per layer",
    )
    st.markdown(fd.saturation_sentence(record, step))


nav.through_app()
share.begin(PAGE)

st.title("Why not too small — or too large? The signal through depth")
st.markdown(
    "A layer computes z = h W + b from the layer before it. With independent, zero-mean weights of variance "
    "Var(W), the spread of z is the spread of h times fan_in × Var(W). Stack layers and these factors "
    "multiply: below 1 the signal fades to nothing within a few layers, above 1 it blows up (ReLU) or pins "
    "tanh units at ±1, where their gradient is 0. Pick an initialization below and look at every layer at "
    "the start, next to what mean-field theory predicts before any training."
)
st.latex(r"\operatorname{Var}[z_l] = n_{l-1}\,\operatorname{Var}[W_l]\;\mathbb{E}\!\left[h_{l-1}^2\right]")

left, right = st.columns([1, 3], gap="large")
with left:
    scheme = controls.schemes(multi=False, default=DEFAULTS["schemes"])[0]
    if scheme in ("normal", "truncated_normal"):
        controls.weight_std(default=DEFAULTS["weight_std"])
    elif scheme == "uniform":
        controls.weight_bound()
    elif scheme == "constant":
        controls.weight_const()
    elif scheme in ("he_normal", "he_uniform"):
        controls.he_mode()
    controls.scale(options=SCALES, label="Scale × (0.1× – 10×)")
    controls.gain()
    controls.depth(default=DEFAULTS["depth"])
    controls.width(default=DEFAULTS["width"])
    activation = controls.activation(default=DEFAULTS["activation"])
    if activation == "leaky_relu":
        controls.leaky_slope()
    bias = controls.bias_init()
    if bias != "zeros":
        controls.bias_value()
    with st.expander("Data and training"):
        dataset = controls.dataset()
        controls.data_details(dataset)
        controls.seed()
        controls.steps(default=DEFAULTS["steps"], max_value=STEPS_MAX, step=10)
        controls.optimizer()
        controls.lr()
        controls.batch_size(default=DEFAULTS["batch_size"])
        controls.dtype()
    share.link()

with right:
    config = share.report(controls.config(**FIXED))
    records = runs.experiment(config)
    record = records[scheme]
    color = style.scheme_color(scheme)
    m2, input_std = fd.input_moments(config)
    if len(record.stat_steps) == 0:  # not even the initialization is finite: nothing to draw
        st.warning(
            f"{record.divergence} Nothing is left to show: lower the scale, or pick float64, whose range is wider.",
            icon=":material/warning:",
        )
        st.stop()
    summary = fd.summarize(record, input_std)
    with st.container(border=True):
        for col, (label, value, help_text) in zip(st.columns(4), fd.summary_metrics(summary)):
            col.metric(label, value, help=help_text)
        st.markdown(f"**At initialization.** {fd.signal_verdict(summary)}")
        st.markdown(fd.gradient_verdict(summary))
        if record.diverged_at is None:
            st.markdown(fd.training_sentence(record))
    if record.diverged_at is not None:
        st.warning(fd.training_sentence(record), icon=":material/warning:")
    run_charts(record, fd.predict(record, m2), input_std, color)
