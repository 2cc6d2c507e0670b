"""Lesson 3, the training race: several init schemes trained on the same data, batches and seed.

Widgets -> one ExperimentConfig -> one cached run of every scheme -> figures.training; display controls redraw only.
"""

from __future__ import annotations

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import math

import streamlit as st

from core import predict as ask
from core.config import ExperimentConfig
from core.records import RunRecord
from figures import training as ft
from figures import style
from ui import charts, controls, nav, predict, runs, share, takehome

PAGE = "training"
# Four starts that tell the lesson's story: exactly zero (symmetric, never learns), near zero but too small
# (N(0, 0.01²): gradients vanish), and two scaled rules that train.
DEFAULT_SCHEMES = ("zeros", "normal", "xavier_uniform", "he_normal")
N_CHECKPOINTS = 11  # histograms at 11 steps: the step slider of the histograms
QUANTITIES = {"gradients": "grad", "weights": "weight", "activations": "act"}
CAPTIONS = {
    "grad": "Each ridge is one layer's distribution of |dLoss/dW| on the mini-batch of that step, on a log "
    "axis shared by all ridges: a ridge further left is a layer whose weights get smaller steps.",
    "weight": "Each ridge is one layer's distribution of weights; at step 0 it is the initialization itself.",
    "act": "Each ridge is one layer's distribution of outputs h = φ(z) on the mini-batch (the last one: the logits).",
}


def record_every(steps: int) -> int:
    """Evaluate about 100 times per run (at least every 10 steps): curves stay smooth, evaluation cheap."""
    return max(10, round(steps / 100))


def scheme_param_controls(schemes: tuple[str, ...]) -> None:
    """The parameters of the chosen schemes that have any (σ of normal, c of constant, ...)."""
    if {"normal", "truncated_normal"} & set(schemes):
        controls.weight_std()
    if "constant" in schemes:
        controls.weight_const()
    if "uniform" in schemes:
        controls.weight_bound()


def draw_controls() -> None:
    schemes = controls.schemes(
        default=DEFAULT_SCHEMES,
        max_selections=6,
        label="Initializations to compare",
    )
    scheme_param_controls(schemes)
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
    with st.expander("More settings"):
        controls.data_details(dataset)
        controls.gain()
        if {"he_normal", "he_uniform"} & set(schemes):
            controls.he_mode()
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
    """Loss and accuracy curves; the log-scale toggle redraws them without retraining."""
    log_y = st.toggle("Log-scale loss axis", key="tr_log")
    charts.show(ft.loss_figure(records, colors, log_y=log_y), key="tr_loss")
    st.markdown(ft.loss_sentence(records))
    cut = ft.loss_axis_note(records, log_y)
    if cut:
        st.caption(cut)
    charts.show(ft.accuracy_figure(records, colors), key="tr_acc")
    st.markdown(ft.accuracy_sentence(records))


@st.fragment
def histograms(records: list[RunRecord], colors: dict[str, str]) -> None:
    """Histograms by layer of the picked schemes at the picked checkpoint; scrubbing never retrains."""
    by_scheme = {r.scheme: r for r in records if r.hists}
    if not by_scheme:
        st.info("No histograms were recorded for this run.")
        return
    schemes = list(by_scheme)
    keep_valid("tr_hist_schemes", schemes, schemes)
    c1, c2 = st.columns([3, 2])
    picked = c1.multiselect(
        "Schemes to show",
        schemes,
        format_func=ft.scheme_label,
        key="tr_hist_schemes",
    )
    quantity = c2.segmented_control(
        "Quantity", list(QUANTITIES), default="gradients", key="tr_quantity", required=True
    )
    kind = QUANTITIES[quantity or "gradients"]
    st.caption(CAPTIONS[kind])
    shown = [by_scheme[s] for s in picked] or [by_scheme[schemes[0]]]
    # a diverged run has fewer checkpoints: offer the steps every shown scheme has
    steps = [int(s) for s in min((r.hist_steps for r in shown), key=len)]
    keep_valid("tr_step", steps, steps[0])
    step = steps[0]
    if len(steps) > 1:
        step = st.select_slider(
            "Step", options=steps, key="tr_step", help="Histograms are recorded at these steps."
        )
    ck = steps.index(step)
    charts.show(ft.ridgeline_figure(shown, ck, kind, colors), key="tr_ridge")
    st.markdown(ft.hist_sentence(shown, ck, kind))
    gap = ft.scheme_gap_sentence(shown, ck, kind)
    if gap:
        st.markdown(gap)


@st.fragment
def results(records: list[RunRecord]) -> None:
    """The results table and the downloads; changing the target loss recomputes only the table."""
    k = records[0].confusion.shape[0]
    default_target = float(f"{0.5 * math.log(k):.2g}")
    # A data set with another number of classes has another guessing loss: the target starts over from its
    # default (within one visit; a link's own target is kept).
    visit = id(st.session_state.get("_initlab_share"))
    if st.session_state.get("_tr_target_k", (visit, k)) != (visit, k):
        st.session_state["target"] = default_target
    st.session_state["_tr_target_k"] = (visit, k)
    target = st.columns([1, 3])[0].number_input(
        "Target train loss",
        min_value=0.001,
        max_value=10.0,
        value=default_target,
        step=0.05,
        format="%g",
        key="target",
        bind="query-params",
        help="The table counts the steps each scheme needs to get its whole-train-split loss this low.",
    )
    controls.record("target", "target", float(target), "a number from 0.001 to 10")
    controls.refresh_after_fragment("target", float(target))
    table = ft.results_table(records, target)
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "final train accuracy": st.column_config.NumberColumn(format="percent"),
            "final test accuracy": st.column_config.NumberColumn(format="percent"),
            "final train loss": st.column_config.NumberColumn(format="%.4f"),
            "final test loss": st.column_config.NumberColumn(format="%.4f"),
            "train seconds": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.markdown(ft.target_sentence(records, target))
    d1, d2 = st.columns(2)
    d1.download_button(
        "Results table (CSV)",
        table.to_csv(index=False).encode(),
        file_name="initlab-training-results.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    d2.download_button(
        "Every step of every scheme (CSV)",
        lambda: ft.per_step_table(records).to_csv(index=False).encode(),  # built only when clicked
        file_name="initlab-training-steps.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


nav.through_app()
share.begin(PAGE)

st.title("The training race: init schemes side by side")
st.markdown(
    "Every initialization you pick below is trained on the same data, in the same mini-batches, from the same "
    "seed, so the starting weights are the only difference. Watch three things: whether the loss moves at "
    "all (all-zero weights never break their symmetry; tiny weights pass on vanishing gradients), how the "
    "gradient reaching each layer compares across layers, and how big each step is compared with the weights "
    "it changes. A layer with `fan_in` inputs keeps its signal steady when its weights have variance about"
)
st.latex(
    r"\operatorname{Var}[W] \approx \frac{g^2}{\text{fan\_in}}\qquad(g^2 = 2 \text{ for ReLU, He et al. 2015})"
)

left, right = st.columns([1, 3])
with charts.controls(left):
    draw_controls()

with right:
    config: ExperimentConfig = share.report(
        controls.config(n_checkpoints=N_CHECKPOINTS, record_every=record_every(controls.values()["steps"])),
        later=("target",),
    )
    result = runs.experiment(config)
    records = list(result.values())
    colors = {r.scheme: style.scheme_color(r.scheme) for r in records}
    if not predict.gate(PAGE, [ask.training_lowest(records), ask.training_never(records)]):
        st.stop()
    if len(records) == 1:
        st.info("Pick a second initialization to compare it with.", icon=":material/compare_arrows:")
    for sentence in ft.divergence_sentences(records):
        st.warning(sentence, icon=":material/warning:")

    cols = st.columns(len(records))
    for col, r in zip(cols, records):
        final = ft.final_value(r, "train_loss")
        col.metric(
            ft.run_label(r),
            "diverged" if r.diverged_at is not None else ft.fmt(final),
            help="Loss on the whole train split after the last step.",
            border=True,
        )

    st.header("Loss and accuracy", anchor=False)
    curves(records, colors)

    st.header("Gradients by layer", anchor=False)
    histograms(records, colors)

    st.header("Gradient norm of every layer over training", anchor=False)
    charts.show(ft.grad_norm_heatmap(records, colors), key="tr_heatmap")
    sentence = ft.grad_norm_sentence(records)
    if sentence:
        st.markdown(sentence)

    st.header("How big is each step?", anchor=False)
    charts.show(ft.update_ratio_figure(records, colors), key="tr_ratio")
    st.markdown(ft.update_ratio_sentence(records))

    if config.dataset == "digits":
        st.header("Digits: best and worst scheme", anchor=False)
        best, worst = ft.best_and_worst(records)
        pair = [best] if best is worst else [best, worst]
        charts.show(ft.confusion_figure(pair, colors), key="tr_confusion")
        st.markdown(ft.confusion_sentence(best, worst))
    elif config.sizes[0] == 2:  # a decision boundary can be drawn for 2-D inputs only
        st.header("What each network learned", anchor=False)
        split = runs.data_split(
            config.dataset, config.n_samples, config.noise, config.n_classes, config.data_seed
        )
        charts.show(ft.boundary_figure(records, colors, split.X_test, split.y_test), key="tr_boundary")
        st.markdown(ft.boundary_sentence(records))

    st.header("Results", anchor=False)
    results(records)

    takehome.show(config, PAGE)
    share.link()
    predict.share_option()
