"""Lesson 3, the training race: several init schemes trained on the same data, batches and seed.

Widgets -> one ExperimentConfig -> one cached run of every scheme -> analysis and figures.training; display
controls redraw only.
"""

from __future__ import annotations

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import streamlit as st

from analysis import training as an
from analysis import training_sentences as say
from core import predict as ask
from core.config import ExperimentConfig
from core.records import RunRecord
from figures import training as ft
from figures import style
from ui import charts, controls, nav, predict, runs, share, takehome
import i18n
from i18n import N_, _, numbers

PAGE = "training"
QUANTITIES = {"gradients": "grad", "weights": "weight", "activations": "act"}
QUANTITY_NAMES = {"gradients": N_("gradients"), "weights": N_("weights"), "activations": N_("activations")}
# The curves, one tab each; only the open one is drawn (a browser builds one chart there on arrival, not two).
CURVES = (N_("Loss"), N_("Accuracy"))
LOG_KEPT = "_tr_log_kept"  # the log-scale toggle's value while the accuracy tab is open
# The views of the networks' insides, one tab each (the last one only where it can be drawn).
SECTIONS = {
    "gradients": N_("Gradients by layer"),
    "norms": N_("Gradient norms"),
    "steps": N_("Step sizes"),
    "regions": N_("Decision regions"),
    "digits": N_("Confusion matrices"),
}
CAPTIONS = {
    "grad": N_(
        "Each ridge is one layer's distribution of |dLoss/dW| on the mini-batch of that step, on a log axis "
        "shared by all ridges: a ridge further left is a layer whose weights get smaller steps."
    ),
    "weight": N_(
        "Each ridge is one layer's distribution of weights; at step 0 it is the initialization itself."
    ),
    "act": N_(
        "Each ridge is one layer's distribution of outputs h = φ(z) on the mini-batch (the last one: the logits)."
    ),
}


def draw_controls() -> None:
    schemes = controls.schemes(
        default=an.DEFAULTS.schemes,
        max_selections=6,
        label=_("Initializations to compare"),
    )
    controls.scheme_params(schemes)
    controls.depth(min_value=1, max_value=50)
    controls.width()
    activation = controls.activation()
    if controls.block() == "residual":  # residual / normalized nets: core.modern (lesson 5)
        controls.alpha()
    controls.norm()
    controls.scale()
    bias = controls.bias_init()
    if bias in ("constant", "normal"):
        controls.bias_value(default=0.1, min_value=0.0 if bias == "normal" else None)
    controls.optimizer()
    controls.lr()
    controls.batch_size()
    controls.steps(min_value=0, max_value=3000)
    dataset = controls.dataset()
    controls.seed()
    with st.expander(_("More settings")):
        controls.data_details(dataset)
        controls.gain()
        if activation == "leaky_relu":
            controls.leaky_slope()
        controls.dtype()


def keep_valid(key: str, options: list, default) -> None:
    """A display choice left over from an earlier run that is not offered any more starts over."""
    value = st.session_state.get(key)
    if isinstance(value, list):
        value = [v for v in value if v in options]
        st.session_state[key] = value or default
    elif value not in options:
        st.session_state[key] = default


@st.fragment
def curves(records: list[RunRecord], colors: dict[str, str]) -> None:
    """Loss and accuracy curves, one tab each: only the open tab is drawn, and switching tabs or the log-scale
    toggle reruns only this part of the page (never the training)."""
    loss_tab, accuracy_tab = charts.tabs(CURVES, key="tr_curve")
    if loss_tab.open:
        with loss_tab:
            # The toggle is not drawn while the accuracy tab is open, which would forget it: its value is kept.
            log_y = st.toggle(
                _("Log-scale loss axis"), value=st.session_state.get(LOG_KEPT, False), key="tr_log"
            )
            st.session_state[LOG_KEPT] = log_y
            loss = say.loss_sentence(records)
            charts.show(ft.loss_figure(records, colors, log_y=log_y), key="tr_loss", alt=loss)
            st.markdown(loss)
            cut = say.loss_axis_note(records)
            if cut:
                st.caption(cut)
    if accuracy_tab.open:
        with accuracy_tab:
            accuracy = say.accuracy_sentence(records)
            charts.show(ft.accuracy_figure(records, colors), key="tr_acc", alt=accuracy)
            st.markdown(accuracy)


@st.fragment
def histograms(records: list[RunRecord], colors: dict[str, str]) -> None:
    """Histograms by layer of the picked schemes at the picked checkpoint; scrubbing never retrains."""
    by_scheme = {r.scheme: r for r in records if r.hists}
    if not by_scheme:
        st.info(_("No histograms were recorded for this run."))
        return
    schemes = list(by_scheme)
    labels = {r.scheme: an.run_label(r) for r in records}
    keep_valid("tr_hist_schemes", schemes, schemes)
    c1, c2 = st.columns([3, 2])
    picked = c1.multiselect(
        _("Schemes to show"),
        schemes,
        format_func=lambda s: labels.get(s, s),
        key="tr_hist_schemes",
    )
    quantity = c2.segmented_control(
        _("Quantity"),
        list(QUANTITIES),
        format_func=lambda q: str(QUANTITY_NAMES[q]),
        default="gradients",
        key="tr_quantity",
        required=True,
    )
    kind = QUANTITIES[quantity or "gradients"]
    st.caption(str(CAPTIONS[kind]))
    shown = [by_scheme[s] for s in picked] or [by_scheme[schemes[0]]]
    # a diverged run has fewer checkpoints: offer the steps every shown scheme has
    steps = [int(s) for s in min((r.hist_steps for r in shown), key=len)]
    keep_valid("tr_step", steps, steps[0])
    step = steps[0]
    if len(steps) > 1:
        step = st.select_slider(
            _("Step"), options=steps, key="tr_step", help=_("Histograms are recorded at these steps.")
        )
    ck = steps.index(step)
    sentence = say.hist_sentence(shown, ck, kind)
    charts.show(ft.ridgeline_figure(shown, ck, kind, colors), key="tr_ridge", alt=sentence)
    st.markdown(sentence)
    gap = say.scheme_gap_sentence(shown, ck, kind)
    if gap:
        st.markdown(gap)


@st.fragment
def results(records: list[RunRecord]) -> None:
    """The results table and the downloads; changing the target loss recomputes only the table."""
    k = an.n_classes(records)
    default_target = an.default_target(k)
    # A data set with another number of classes has another guessing loss: the target starts over from its
    # default (within one visit; a link's own target is kept).
    visit = id(st.session_state.get("_initlab_share"))
    if st.session_state.get("_tr_target_k", (visit, k)) != (visit, k):
        st.session_state["target"] = default_target
    st.session_state["_tr_target_k"] = (visit, k)
    target = st.columns([1, 3])[0].number_input(
        _("Target train loss"),
        min_value=0.001,
        max_value=10.0,
        value=default_target,
        step=0.05,
        format="%g",
        key="target",
        bind="query-params",
        help=_("The table counts the steps each scheme needs to get its whole-train-split loss this low."),
    )
    controls.record("target", "target", float(target), _("a number from 0.001 to 10"))
    controls.refresh_after_fragment("target", float(target))
    table = an.results_table(records, target)
    # Numbers written the session language's way (the CSV keeps plain numbers for spreadsheets).
    lang = i18n.current()
    shown = table.style.format(
        {
            str(an.COL_TRAIN_ACC): lambda v: numbers.pct(v, 2, lang=lang),
            str(an.COL_TEST_ACC): lambda v: numbers.pct(v, 2, lang=lang),
            str(an.COL_TRAIN_LOSS): lambda v: numbers.decimal(v, 4, lang=lang),
            str(an.COL_TEST_LOSS): lambda v: numbers.decimal(v, 4, lang=lang),
            str(an.COL_SECONDS): lambda v: numbers.decimal(v, 2, lang=lang),
        }
    )
    st.dataframe(shown, hide_index=True)
    st.markdown(say.target_sentence(records, target))
    d1, d2 = st.columns(2)
    d1.download_button(
        _("Results table (CSV)"),
        table.to_csv(index=False).encode(),
        file_name="initlab-training-results.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    d2.download_button(
        _("Every step of every scheme (CSV)"),
        lambda: an.per_step_table(records).to_csv(index=False).encode(),  # built only when clicked
        file_name="initlab-training-steps.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


@st.fragment
def inside(records: list[RunRecord], colors: dict[str, str], config: ExperimentConfig) -> None:
    """Inside the networks, one tab per view; only the open tab is computed and drawn (a browser builds
    one tab's charts, not all of them), and switching tabs reruns only this part of the page."""
    end = None
    if config.dataset == "digits":
        end = SECTIONS["digits"]
    elif config.sizes[0] == 2:  # a decision boundary can be drawn for 2-D inputs only
        end = SECTIONS["regions"]
    sections = [SECTIONS["gradients"], SECTIONS["norms"], SECTIONS["steps"], *([end] if end else [])]
    tabs = charts.tabs(sections, key="tr_section")
    for tab, section in zip(tabs, sections):
        if tab.open is False:
            continue
        with tab:
            if section is SECTIONS["gradients"]:
                st.header(_("Gradients by layer"), anchor=False)
                histograms(records, colors)
            elif section is SECTIONS["norms"]:
                st.header(_("Gradient norm of every layer over training"), anchor=False)
                sentence = say.grad_norm_sentence(records)
                charts.show(ft.grad_norm_heatmap(records, colors), key="tr_heatmap", alt=sentence or None)
                if sentence:
                    st.markdown(sentence)
            elif section is SECTIONS["steps"]:
                st.header(_("How big is each step?"), anchor=False)
                sentence = say.update_ratio_sentence(records)
                charts.show(ft.update_ratio_figure(records, colors), key="tr_ratio", alt=sentence)
                st.markdown(sentence)
            elif section is SECTIONS["digits"]:
                st.header(_("Digits: best and worst scheme"), anchor=False)
                best, worst = an.best_and_worst(records)
                pair = [best] if best is worst else [best, worst]
                sentence = say.confusion_sentence(best, worst)
                charts.show(ft.confusion_figure(pair, colors), key="tr_confusion", alt=sentence)
                st.markdown(sentence)
            else:
                st.header(_("Decision regions: what each network learned"), anchor=False)
                split = runs.data_split(
                    config.dataset, config.n_samples, config.noise, config.n_classes, config.data_seed
                )
                sentence = say.boundary_sentence(records)
                figure = ft.boundary_figure(records, colors, split.X_test, split.y_test)
                charts.show(figure, key="tr_boundary", alt=sentence)
                st.markdown(sentence)


nav.through_app()
share.begin(PAGE)

st.title(_("The training race: init schemes side by side"))
st.markdown(
    _(
        "Every initialization you pick below is trained on the same data, in the same mini-batches, from the "
        "same seed, so the starting weights are the only difference. Watch three things: whether the loss "
        "moves at all (all-zero weights never break their symmetry; tiny weights pass on vanishing gradients), "
        "how the gradient reaching each layer compares across layers, and how big each step is compared with "
        "the weights it changes. A layer with `fan_in` inputs keeps its signal steady when its weights have "
        "variance about"
    )
)
# Only the formula in LaTeX, its note as text: the whole line was wider than a phone, and a formula that
# scrolls inside its box is a scroll region a keyboard cannot reach (axe-core: scrollable-region-focusable).
st.latex(r"\operatorname{Var}[W] \approx \frac{g^2}{\text{fan\_in}}")
st.caption(_("with g² = 2 for ReLU (He et al. 2015)"))

left, right = st.columns([1, 3])
with charts.controls(left):
    draw_controls()

with right:
    config: ExperimentConfig = share.report(
        controls.config(
            n_checkpoints=an.N_CHECKPOINTS, record_every=an.record_every(controls.values()["steps"])
        ),
        later=("target",),
    )
    result = runs.experiment(config)
    records = list(result.values())
    colors = {r.scheme: style.scheme_color(r.scheme) for r in records}
    if not predict.gate(PAGE, [ask.training_lowest(records), ask.training_never(records)]):
        st.stop()
    if len(records) == 1:
        st.info(_("Pick a second initialization to compare it with."), icon=":material/compare_arrows:")
    for sentence in say.divergence_sentences(records):
        st.warning(sentence, icon=":material/warning:")

    cols = st.columns(len(records))
    for col, r in zip(cols, records):
        col.metric(
            an.run_label(r),
            _("diverged") if r.diverged_at is not None else an.fmt(an.final_value(r, "train_loss")),
            help=_("Loss on the whole train split after the last step."),
            border=True,
        )

    st.header(_("Loss and accuracy"), anchor=False)
    curves(records, colors)

    inside(records, colors, config)

    st.header(_("Results"), anchor=False)
    results(records)

    takehome.show(config, PAGE)
    share.link()
