"""Lesson 1, symmetry: why weights must not all start equal. Your start is trained beside a small random one.

Widgets -> two one-scheme configs (yours, the reference) -> one cached stacked run -> figures.symmetry.
"""

from __future__ import annotations

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import streamlit as st

from analysis import symmetry as an
from analysis.symmetry import DEFAULTS, FIXED, REFERENCE, Panel
from core import predict as ask
from core.config import BIAS_INITS, DATASETS
from figures import symmetry as fs
from figures import style
from i18n import N_, _
from i18n.numbers import pct
from ui import charts, controls, nav, predict, runs, share, takehome
from analysis import divergence

PAGE = "symmetry"
WIDTHS = (2, 4, 8, 16, 32, 64)  # the weight snapshots are kept up to this size
# Two views of "are the units still copies?", one tab each, by their id in links (`view=distinct`); only the
# open one is drawn, so a browser builds one chart there on arrival, not two.
VIEWS = {"weights": N_("The weights, one column per unit"), "distinct": N_("Distinct units over training")}
VIEW_KEY = "sym_view"


@st.fragment
def weight_matrix(panels: list[Panel]) -> None:
    """The heatmap of one hidden layer's incoming weights at a checkpoint; scrubbing it never retrains."""
    rec = panels[0].record
    if not rec.weight_snapshots:
        st.info(_("This network is too large to keep copies of its weights; pick fewer units to see them."))
        return
    layers = list(range(1, an.hidden_depth(rec) + 1))
    steps = [int(s) for s in rec.hist_steps]
    # A layer or step kept from a larger network of an earlier run is not offered any more: start over.
    if st.session_state.get("sym_step") not in steps:
        st.session_state["sym_step"] = steps[-1]
    c1, c2 = st.columns([1, 2])
    if "layer" in st.session_state and st.session_state["layer"] not in layers:
        del st.session_state["layer"]  # a layer of a deeper network of an earlier run: back to the default
    layer = c1.radio(
        _("Hidden layer"), layers, index=len(layers) - 1, key="layer", bind="query-params", horizontal=True
    )
    controls.record(
        "layer", "layer", int(layer), _("one of {values}", values=", ".join(map(str, layers))), layers
    )
    controls.refresh_after_fragment("layer", int(layer))
    step = steps[0]
    if len(steps) > 1:
        step = c2.select_slider(
            _("Step"), options=steps, key="sym_step", help=_("Copies of the weights are kept at these steps.")
        )
    ck = steps.index(step)
    sentence = an.heatmap_sentence(panels, ck, layer - 1)
    charts.show(fs.weight_heatmap_figure(panels, ck, layer - 1), key="sym_heatmap", alt=sentence)
    st.markdown(sentence)


nav.through_app()
share.begin(PAGE)

st.title(_("Why not start at zero? Symmetry"))
st.markdown(
    _(
        "If the units of a layer start with equal incoming weights — zero or any constant *c* — **and** equal "
        "biases, and the weights going out of them are equal too, every unit of that layer computes the same "
        "function of the input, receives the same gradient and takes the same step (with SGD, momentum or Adam "
        "alike). In exact arithmetic they stay copies of each other at every step: a layer of many units works "
        "like a single unit. In floating point the tie is unstable: rounding differences of about 10⁻¹⁶ can "
        "grow until the units differ, but too slowly and too weakly to train well. Random biases with equal "
        "weights break the tie only partly (see below). Below, the start you choose is trained beside a small "
        "random start (Xavier uniform weights, zero biases) on the same data, in the same mini-batches, with "
        "the same seed."
    )
)
# Language-free notation (the words are in the text around it): ∀ for "for all units" and "at every step";
# three short lines, so the formula fits a phone's width.
st.latex(
    r"\begin{gathered} W^{(0)}_{:,i} = W^{(0)}_{:,j},\quad b^{(0)}_i = b^{(0)}_j,\\ W^{(0)}_{\text{out};\,i,:} = "
    r"W^{(0)}_{\text{out};\,j,:}\quad \forall\, i, j \\"
    r"\Longrightarrow\; W^{(t)}_{:,i} = W^{(t)}_{:,j}\quad \forall\, t \end{gathered}"
)
# The definitions fold away: on a phone the first result then comes within a screen and a half.
with st.expander(_("Symbols and measures"), icon=":material/functions:"):
    st.caption(
        _(
            "Symbols: W the layer's incoming weights (column i belongs to unit i), b its biases, W_out the weights "
            "from its units to the next layer (row i), t the training step, ∀ “for all” (units i, j; steps t, in exact "
            "arithmetic). Distinct units: units whose incoming "
            "weights and bias differ (by more than 10⁻⁶ of the length of the layer's longest such vector). Mean "
            "|cosine|: the mean over pairs of units of the absolute cosine between their incoming weight vectors "
            "(1 = parallel, near 0 = unrelated)."
        )
    )

left, right = st.columns([1, 3])
with charts.controls(left):
    scheme = controls.schemes(multi=False, default=DEFAULTS["schemes"], label=_("Your start: weights"))[0]
    controls.scheme_params((scheme,))
    bias = controls.bias_init(options=BIAS_INITS, label=_("Your start: biases"))
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
    charts.link_tabs(VIEWS, VIEW_KEY, url_key="view")

with right:
    student = share.report(controls.config(**FIXED), later=("layer",))
    reference = student.replace(**REFERENCE)
    pair = runs.run_pair(student, reference)
    if pair is None:
        st.stop()
    you = Panel(an.start_label(student), pair[0], style.scheme_color(student.schemes[0]))
    ref = Panel(an.reference_label(reference), pair[1], style.scheme_color(reference.schemes[0]))
    panels = [you, ref]
    split = runs.data_split(
        student.dataset, student.n_samples, student.noise, student.n_classes, student.data_seed
    )
    if not predict.gate(PAGE, [ask.symmetry(you.record)]):
        st.stop()
    if student == reference:
        st.caption(_("Your start is the reference start: pick another initialization to compare."))
    for p in panels:
        if p.record.divergence:
            st.warning(
                _("{label}: {value}", label=p.label, value=divergence.sentence(p.record)), icon=":material/warning:"
            )

    metrics = st.columns(4)
    distinct_help = _(
        "At the last step, per hidden layer: units whose incoming weights and bias differ. "
        "Distinct units alone do not mean the network learned: read it beside the test accuracy."
    )
    for col, p, label in (
        (metrics[0], you, _("Distinct units, your start")),
        (metrics[1], ref, _("Distinct units, reference")),
    ):
        note = an.parallel_note(p.record)  # under the count, so the count is never cut in a narrow column
        col.metric(label, an.distinct_text(p.record), note, "off", help=distinct_help, delta_arrow="off")
    metrics[2].metric(_("Test accuracy, your start"), pct(an.final_test_acc(you.record)))
    metrics[3].metric(_("Test accuracy, reference"), pct(an.final_test_acc(ref.record)))

    st.header(_("Does it learn?"), anchor=False)
    baseline = an.baseline_loss(you.record)
    sentence = an.loss_sentence(you, ref, baseline)
    charts.show(fs.loss_figure(panels, baseline), alt=sentence)
    st.markdown(sentence)
    dead = an.dead_start_sentence(you.record, split)
    if dead:
        st.markdown(dead)

    st.header(_("Are the units still copies of each other?"), anchor=False)
    weights, distinct = charts.tabs(list(VIEWS.values()), VIEW_KEY)
    if weights.open:
        with weights:
            st.caption(_("Identical units have identical columns. Pick a layer and scrub through training."))
            weight_matrix(panels)
    if distinct.open:
        with distinct:
            charts.show(
                fs.distinct_figure(panels), key="sym_distinct", alt=an.distinct_chart_sentence(panels)
            )
    for sentence in (
        an.symmetry_sentence(you),
        an.moved_but_identical_sentence(you),
        an.broken_badly_sentence(you, ref),
        an.symmetry_sentence(ref),
    ):
        if sentence:
            st.markdown(sentence)

    st.header(_("What the two networks learned"), anchor=False)
    sentence = an.accuracy_sentence(panels, split)
    st.markdown(sentence)
    # Drawn only when opened (on_change="rerun" runs the page again, from the cache): the page's largest
    # chart (two heatmaps and every test point) costs a browser most of its drawing time.
    regions = st.expander(
        _("Decision regions and test points"),
        key="sym_regions",
        on_change="rerun",
        icon=":material/scatter_plot:",
    )
    if regions.open:
        with regions:
            charts.show(fs.boundary_figure(panels, split), alt=sentence)

    takehome.show(student, PAGE, what=_("your start"))
    share.link()
