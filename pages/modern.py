"""Lesson 5, normalization and residual connections: what changed after 2015, and why initialization still matters.

Widgets -> one base config -> four cached comparisons (core.modern) -> figures.modern, every sentence from the runs.
"""

from __future__ import annotations

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import streamlit as st

from core import predict as ask
from core.config import ExperimentConfig
from figures import modern as fm
from ui import charts, controls, nav, predict, runs, share, takehome

PAGE = "modern"
DEFAULTS, FIXED = fm.DEFAULTS, fm.FIXED


def compare(base: ExperimentConfig, part: fm.Part) -> tuple[list, list[str]]:
    """Train the part's networks (variants of `base`) on the same data, batches and seed."""
    records = runs.modern(part.configs(base))
    if records is None:
        st.stop()
    return records, part.labels


nav.through_app()
share.begin(PAGE)

st.title("Normalization & residuals: what changed after 2015")
st.markdown(
    "Modern networks normalize their signals (BatchNorm, Ioffe & Szegedy 2015; LayerNorm, Ba et al. 2016) "
    "and add residual connections (He et al. 2016). Both make training far less sensitive to the initial "
    "scale — but not to everything. Four experiments, each trained here on the same data, batches and seed."
)

left, right = st.columns([1, 3], gap="large")
with charts.controls(left):
    controls.weight_std(default=DEFAULTS["weight_std"])
    controls.weight_const()
    controls.depth(default=DEFAULTS["depth"], max_value=40)
    controls.width(default=DEFAULTS["width"], options=(8, 16, 32, 64))
    controls.activation(default=DEFAULTS["activation"])
    with st.expander("Data and training"):
        dataset = controls.dataset()
        controls.data_details(dataset)
        controls.seed()
        controls.steps(default=DEFAULTS["steps"], max_value=500, step=50)
        controls.lr(default=DEFAULTS["lr"])
        controls.batch_size()
        controls.dtype()
    share.link()

with right:
    base = share.report(controls.config(**FIXED))
    questions = [
        lambda: ask.modern_symmetry(*compare(base, fm.SYMMETRY)),
        lambda: ask.modern_race(*compare(base, fm.RACE)),
    ]
    if not predict.gate(PAGE, questions):  # computed only when the link asks students to predict first
        st.stop()

    st.header("1. Normalization rescues the signal from a bad scale")
    st.markdown(
        f"{base.depth} {base.activation} layers of {base.width} units started from N(0, {base.weight_std:g}²), "
        f"with and without normalization, trained {base.steps} steps with momentum SGD at learning rate "
        f"{base.lr:g} on the same batches. Placement: after each linear layer, before the activation, as "
        "in the BatchNorm paper: h = φ(N(h W + b)). BatchNorm normalizes each unit over the batch, "
        "LayerNorm each example over its units; both start with γ = 1, β = 0."
    )
    records, labels = compare(base, fm.RESCUE)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Std of the activation's input per layer, at initialization**")
        charts.show(
            fm.std_figure(records, labels, "pre_std"),
            key="modern_rescue_std",
            alt="Std of the activation's input per layer at initialization, one line per normalization",
        )
    with c2:
        st.markdown("**Training loss on each mini-batch**")
        charts.show(
            fm.loss_figure(records, labels),
            key="modern_rescue_loss",
            alt="Training loss per step, one line per normalization",
        )
    for r, label in zip(records, labels):
        st.markdown(fm.rescue_sentence(r, label) + " " + fm.training_sentence(r, label))
    st.markdown(fm.rescue_summary(records, labels))
    if note := fm.layernorm_input_note(base):
        st.markdown(note)

    st.header("2. Normalization does not break symmetry")
    st.markdown(
        f"Every weight starts at the same constant c = {base.weight_const:g}. Normalizing identical units "
        "gives identical units, and their gradients are identical too, so no update can tell them apart: "
        "a random start is still needed."
    )
    records, labels = compare(base, fm.SYMMETRY)
    st.markdown("**Distinct units: the most in any hidden layer, per recorded step**")
    charts.show(
        fm.distinct_figure(records, labels),
        key="modern_symmetry",
        alt="Number of distinct units over the training steps, with BatchNorm and with LayerNorm",
    )
    for r, label in zip(records, labels):
        st.markdown(fm.symmetry_sentence(r, label))

    st.header("3. Residual streams grow")
    st.markdown(
        "A residual block adds its branch to the stream: h ← h + α f(N(h)), with the pre-norm branch "
        "f(u) = φ(u) W + b (φ = ReLU, W He-initialized, Var W = 2/n). The branch's last weights are "
        "independent of h and have mean 0, so Var(h + α f) = Var(h) + α² Var(f), and:"
    )
    # short formulas, one per line: st.latex does not wrap, and a phone is 390 px wide
    st.markdown("Without a norm in the branch (h is symmetric around 0, so E[ReLU(h)²] = Var(h)/2):")
    st.latex(r"\operatorname{Var} f = n\,\tfrac{2}{n}\,\mathbb{E}[\mathrm{ReLU}(h)^2] = \operatorname{Var} h")
    st.latex(r"\operatorname{Var} h_l = (1+\alpha^2)^l\,\operatorname{Var} h_0")
    st.markdown("With BatchNorm or LayerNorm in the branch (N(h) has variance 1):")
    st.latex(r"\operatorname{Var} f \approx 2 \cdot \tfrac{1}{2} = 1")
    st.latex(r"\operatorname{Var} h_l \approx \operatorname{Var} h_0 + \alpha^2 l")
    st.markdown(
        "So with α = 1 the variance doubles per block (Prince, *Understanding Deep Learning*, 11.3); with "
        "BatchNorm in the branch it grows linearly; α = 1/√L gives (1 + 1/L)^L ≤ e over all L blocks, "
        "α = 1/√(2L) (GPT-2's scaling of residual projections) √e; α = 0 (SkipInit, De & Smith 2020; "
        f"ReZero) starts as the identity. Measured on {fm.STREAMS.fixed['width']} units and {fm.STREAMS.fixed['batch_size']} "
        "examples at initialization; the recursion starts from the measured variance of the stem's output."
    )
    records, labels = compare(base, fm.STREAMS)
    st.markdown(
        "**Std of the residual stream after each block, at initialization** (dots: measured; dashed: the recursion)"
    )
    charts.show(
        fm.stream_figure(records, labels),
        key="modern_streams",
        alt="Std of the residual stream per block, measured and predicted, one colour per branch scale",
    )
    for r, label in zip(records, labels):
        st.markdown(fm.growth_sentence(r, label))

    st.header("4. The race")
    st.markdown(
        f"He-initialized ReLU networks of depth {fm.RACE.fixed['depth']}, trained with plain SGD at learning rate "
        f"{fm.RACE.fixed['lr']:g} from the same start, data and batches."
    )
    records, labels = compare(base, fm.RACE)
    st.markdown("**Training loss on each mini-batch** (log scale)")
    charts.show(
        fm.loss_figure(records, labels, log=True),
        key="modern_race",
        alt="Training loss per step of the plain, normalized and residual networks",
    )
    st.markdown(fm.race_sentence(records, labels))
    for r, label in zip(records, labels):
        st.markdown(fm.training_sentence(r, label))
    takehome.show(fm.RACE.configs(base), PAGE, what="the race", labels=labels)
