"""Lesson 5, normalization and residual connections: what changed after 2015, and why initialization still matters.

Widgets -> one base config -> four comparisons (core.modern, cached), one tab each, computed only while
its tab is open -> figures.modern, sentences from analysis.modern.
"""

from __future__ import annotations

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

from collections.abc import Callable

import streamlit as st

from analysis import modern as am
from core import predict as ask
from core.config import ExperimentConfig
from core.initializers import run_label
from figures import modern as fm
from i18n import N_, _
from ui import charts, controls, nav, predict, runs, share, takehome

PAGE = "modern"
DEFAULTS = am.DEFAULTS
# The four experiments, one tab each, by their id in links (`part=race`; never rename one: old links would
# stop working); opening the page computes the first. st.session_state[TAB_KEY] is the open tab's label.
TABS = {
    "rescue": N_("1. Normalization rescues"),
    "symmetry": N_("2. Symmetry"),
    "streams": N_("3. Residual streams"),
    "race": N_("4. The race"),
}
TAB_KEY = "modern_part"


def compare(base: ExperimentConfig, part: am.Part) -> tuple[list, list[str]]:
    """Train the part's networks (variants of `base`) on the same data, batches and seed."""
    records = runs.modern(part.configs(base))
    if records is None:
        st.stop()
    return records, part.labels


def results(runs_: tuple[list, list[str]], figure: Callable, sentence: Callable, key: str) -> None:
    """A part's chart (its title above it; its text alternative from its title, axes and lines), then one
    computed sentence per network."""
    records, labels = runs_
    charts.show(figure(records, labels), key=key)
    for r, label in zip(records, labels):
        st.markdown(sentence(r, label))


def section(title: str, intro: str) -> None:
    """A part's heading and the paragraph that says what it trains."""
    st.header(title)
    st.markdown(intro)


nav.through_app()
share.begin(PAGE)

st.title(_("Normalization & residuals: what changed after 2015"))
st.markdown(
    _(
        "Modern networks normalize their signals (BatchNorm, Ioffe & Szegedy 2015; LayerNorm, Ba et al. "
        "2016) and add residual connections (He et al. 2016). Both make training far less sensitive to the "
        "initial scale — but not to everything. Four experiments, one per tab below, each trained here on "
        "the same data, batches and seed."
    )
)

left, right = st.columns([1, 3], gap="large")
with charts.controls(left):
    controls.scheme_params(am.TUNED_SCHEMES, weight_std=DEFAULTS["weight_std"])
    controls.depth(default=DEFAULTS["depth"], max_value=40)
    controls.width(default=DEFAULTS["width"], options=(8, 16, 32, 64))
    controls.activation(default=DEFAULTS["activation"])
    with st.expander(_("Data and training")):
        dataset = controls.dataset()
        controls.data_details(dataset)
        controls.seed()
        controls.steps(default=DEFAULTS["steps"], max_value=500, step=50)
        controls.lr(default=DEFAULTS["lr"])
        controls.batch_size()
        controls.dtype()
    charts.link_tabs(TABS, TAB_KEY, url_key="part")  # the open tab is in the link
    share.link()

with right:
    base = share.report(controls.config(**am.FIXED))
    questions = [
        lambda: ask.modern_symmetry(*compare(base, am.SYMMETRY)),
        lambda: ask.modern_race(*compare(base, am.RACE)),
    ]
    if not predict.gate(PAGE, questions):  # computed only when the link asks students to predict first
        st.stop()

    tabs = charts.tabs(list(TABS.values()), key=TAB_KEY)
    if tabs[0].open:
        with tabs[0]:
            section(
                _("1. Normalization rescues the signal from a bad scale"),
                _(
                    "{depth} {activation} layers of {width} units started from {start}, with and without "
                    "normalization, trained {steps} steps with momentum SGD at learning rate {lr} on the "
                    "same batches. Placement: after each linear layer, before the activation, as in the "
                    "BatchNorm paper: h = φ(N(h W + b)). BatchNorm normalizes each unit over the batch, "
                    "LayerNorm each example over its units; both start with γ = 1, β = 0.",
                    depth=base.depth,
                    activation=base.activation,
                    width=base.width,
                    start=run_label(base.schemes[0], base),
                    steps=base.steps,
                    lr=base.lr,
                ),
            )
            records, labels = compare(base, am.RESCUE)
            c1, c2 = st.columns(2)
            with c1:
                charts.show(
                    fm.std_figure(records, labels, "pre_std"),
                    key="modern_rescue_std",
                    alt=_(
                        "Std of the activation's input per layer at initialization, one line per "
                        "normalization"
                    ),
                )
            with c2:
                charts.show(
                    fm.loss_figure(records, labels),
                    key="modern_rescue_loss",
                    alt=_("Training loss per step, one line per normalization"),
                )
            for r, label in zip(records, labels):
                st.markdown(am.rescue_sentence(r, label) + " " + am.training_sentence(r, label))
            st.markdown(am.rescue_summary(records, labels))
            if note := am.layernorm_input_note(base):
                st.markdown(note)
    if tabs[1].open:
        with tabs[1]:
            section(
                _("2. Normalization does not break symmetry"),
                _(
                    "Every weight starts at the same constant c = {c}. Normalizing identical units gives "
                    "identical units, and their gradients are identical too, so no update can tell them "
                    "apart: a random start is still needed.",
                    c=base.weight_const,
                ),
            )
            results(compare(base, am.SYMMETRY), fm.distinct_figure, am.symmetry_sentence, "modern_symmetry")
    if tabs[2].open:
        with tabs[2]:
            section(
                _("3. Residual streams grow"),
                _(
                    "A residual block adds its branch to the stream: h ← h + α f(N(h)), with the pre-norm "
                    "branch f(u) = φ(u) W + b (φ = ReLU, W He-initialized, Var W = 2/n). The branch's last "
                    "weights are independent of h and have mean 0, so Var(h + α f) = Var(h) + α² Var(f), "
                    "and:"
                ),
            )
            # short formulas, one per line: st.latex does not wrap, and a phone is 390 px wide
            st.markdown(
                _("Without a norm in the branch (h is symmetric around 0, so E[ReLU(h)²] = Var(h)/2):")
            )
            st.latex(
                r"\operatorname{Var} f = n\,\tfrac{2}{n}\,\mathbb{E}[\mathrm{ReLU}(h)^2] = \operatorname{Var} h"
            )
            # Var h_0 first: KaTeX's box of a trailing subscript sticks out 2 px, which makes the box scroll (axe)
            st.latex(r"\operatorname{Var} h_l = \operatorname{Var} h_0\,(1+\alpha^2)^l")
            st.markdown(_("With BatchNorm or LayerNorm in the branch (N(h) has variance 1):"))
            st.latex(r"\operatorname{Var} f \approx 2 \cdot \tfrac{1}{2} = 1")
            st.latex(r"\operatorname{Var} h_l \approx \operatorname{Var} h_0 + \alpha^2 l")
            st.markdown(
                _(
                    "So with α = 1 the variance doubles per block (Prince, *Understanding Deep Learning*, "
                    "11.3); with BatchNorm in the branch it grows linearly; α = 1/√L gives (1 + 1/L)^L ≤ e "
                    "over all L blocks, α = 1/√(2L) (GPT-2's scaling of residual projections) √e; α = 0 "
                    "(SkipInit, De & Smith 2020; ReZero) starts as the identity. Measured on {width} units "
                    "and {batch} examples at initialization; the recursion starts from the measured "
                    "variance of the stem's output.",
                    width=am.STREAMS.fixed["width"],
                    batch=am.STREAMS.fixed["batch_size"],
                )
            )
            results(compare(base, am.STREAMS), fm.stream_figure, am.growth_sentence, "modern_streams")
    if tabs[3].open:
        with tabs[3]:
            section(
                _("4. The race"),
                _(
                    "He-initialized ReLU networks of depth {depth}, trained with plain SGD at learning rate "
                    "{lr} from the same start, data and batches.",
                    depth=am.RACE.fixed["depth"],
                    lr=am.RACE.fixed["lr"],
                ),
            )
            records, labels = compare(base, am.RACE)
            charts.show(
                fm.loss_figure(records, labels, log=True),
                key="modern_race",
                alt=_("Training loss per step of the plain, normalized and residual networks"),
            )
            st.markdown(am.race_sentence(records, labels))
            for r, label in zip(records, labels):
                st.markdown(am.training_sentence(r, label))
            takehome.show(am.RACE.configs(base), PAGE, what=_("the race"), labels=labels)
