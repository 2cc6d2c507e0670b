"""Lesson 4, the phase diagram: which initial weight scales train at which depth, with the theory drawn over it.

Widgets -> PhaseConfig -> cached grid of short training runs -> figures.phase; any cell opens as a full run.
"""

from __future__ import annotations

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import streamlit as st

from analysis import phase as ap
from core import phase
from core.config import ExperimentConfig
from figures import phase as fig
from i18n import _
from i18n import numbers
from ui import charts, controls, nav, predict, runs, share, takehome

DEFAULTS = ap.DEFAULTS


def cell_params(cfg: ExperimentConfig) -> dict[str, str]:
    """The URL parameters (docs/CONTRIBUTING.md's keys) that open exactly this cell's run on another page."""
    keys = [
        "dataset",
        "n_samples",
        "noise",
        "depth",
        "width",
        "activation",
        "block",  # plain, no norm: said explicitly, so a lesson last left residual opens this cell's network
        "norm",
        "schemes",
        "scale",
        "gain",
        "bias_init",
        "optimizer",
        "lr",
        "batch_size",
        "steps",
        "seed",
    ]
    if cfg.dataset in ("spiral", "blobs"):
        keys.append("n_classes")
    if cfg.bias_init != "zeros":
        keys.append("bias_value")
    out = {}
    for name in keys:
        v = getattr(cfg, name)
        out[controls.URL_KEYS[name]] = (
            v[0] if isinstance(v, tuple) else controls.fmt_number(v) if isinstance(v, float) else str(v)
        )
    return out


def one_of(options: tuple) -> str:
    """The allowed values of a page control, for the link notice."""
    return _(
        "one of {values}",
        values=", ".join(controls.fmt_number(o) if isinstance(o, float) else str(o) for o in options),
    )


def sigma_b_slider() -> float:
    """σ_b: any value from 0 to the largest the theory covers (Schoenholz et al.'s σ_b² = 0.05 is 0.224)."""
    hi = max(phase.SIGMA_B_OPTIONS)
    value = st.slider(
        _("Bias σ_b"),
        min_value=0.0,
        max_value=float(hi),
        value=float(DEFAULTS.sigma_b),
        step=0.001,
        format="%.3f",
        key="sb",
        bind="query-params",
        help=_(
            "Biases start as N(0, σ_b²); 0 means zero biases. Schoenholz et al. (2017) use σ_b² = 0.05, "
            "σ_b ≈ 0.224."
        ),
    )
    value = float(value)
    controls.record("sigma_b", "sb", value, _("a number from 0 to {hi}", hi=float(hi)))
    return value


nav.through_app()
share.begin("phase")

st.title(_("Phase diagram: which scales train at which depth"))
st.markdown(
    _(
        "Every square below is a real network, its weights drawn from N(0, σ_w²/fan_in) and its biases from "
        "N(0, σ_b²), trained with plain SGD for the number of steps set under *Steps per cell*. Too small a "
        "scale σ_w and the signal fades layer by layer (the ordered phase). Too large, and what happens depends "
        "on the activation: tanh units saturate, two different inputs end up with unrelated activations and the "
        "gradient explodes (the chaotic phase); ReLU and linear signals simply explode. Either way a deep "
        "network cannot learn. Mean-field theory says how deep is too deep: the correlation between two inputs "
        "stays distinguishable for about ξ layers, networks train up to about {multiple} ξ (Schoenholz et al., "
        "2017), and ξ is unbounded at the critical scale, where χ₁ is exactly 1.",
        multiple=phase.TRAINABLE_MULTIPLE,
    )
)
with st.expander(_("What ξ, χ₁, q*, ordered / chaotic and loss-vs-guess mean")):
    st.markdown(
        _(
            "- **q\\*** is the variance the pre-activations settle at after many layers (a fixed point of the "
            "layer-to-layer map); for ReLU and linear units above the critical scale there is none: q* = ∞.\n"
            "- **χ₁** is the factor by which one layer multiplies the *variance* (the squared size) of the "
            "back-propagated gradient at q*; the gradient's typical size, its std, changes by √χ₁ per layer.\n"
            "- **Ordered** (χ₁ < 1): gradients vanish with depth and all inputs end up looking alike. "
            "**Chaotic** (χ₁ > 1): gradients explode with depth; for tanh two nearby inputs end up unrelated.\n"
            "- **ξ** (in layers) is the depth over which the correlation between two inputs is still "
            "distinguishable from its fixed point: ξ = −1 / ln χ_c, with χ_c the slope of the correlation map "
            "there.\n"
            "- **loss-vs-guess** is a cell's final training loss divided by the loss of always guessing the "
            "class frequencies: 1 means it learned nothing, 0 a perfect fit; a cell counts as trained below "
            "{limit}.",
            limit=phase.TRAINED_BELOW,
        )
    )
st.latex(r"\chi_1 = \sigma_w^2\;\mathbb{E}_{u\sim\mathcal{N}(0,1)}\big[\phi'(\sqrt{q^*}\,u)^2\big]")
left, right = st.columns([1, 3])
with charts.controls(left):
    activation = controls.activation(
        default=DEFAULTS.activation,
        options=phase.ACTIVATIONS,
        help=_(
            "Sigmoid and GELU are not offered here: sigmoid's critical scale (σ_w ≈ 10) takes the theory "
            "minutes to compute, and for GELU χ₁ jumps past 1 instead of crossing it, so there is no edge to mark."
        ),
    )
    sigma_b = sigma_b_slider()
    dataset = controls.dataset(default=DEFAULTS.dataset)
    width = controls.width(default=DEFAULTS.width, options=phase.WIDTH_OPTIONS)
    cell_steps = st.select_slider(
        _("Steps per cell"),
        options=phase.STEPS_OPTIONS,
        value=DEFAULTS.steps,
        key="cellsteps",
        bind="query-params",
        help=_(
            "Plain SGD steps of every cell (learning rate {lr}, batch {batch}).",
            lr=DEFAULTS.lr,
            batch=DEFAULTS.batch_size,
        ),
    )
    controls.record("cell_steps", "cellsteps", int(cell_steps), one_of(phase.STEPS_OPTIONS))
    (coarse_sw, coarse_d), (fine_sw, fine_d) = ap.grid_sizes()["coarse"], ap.grid_sizes()["fine"]
    resolution = st.radio(
        _("Grid"),
        list(phase.RESOLUTIONS),
        key="res",
        bind="query-params",
        horizontal=True,
        help=_(
            "coarse: {coarse_sw} scales × {coarse_d} depths; fine: {fine_sw} scales × {fine_d} depths. The fine "
            "grid contains every cell of the coarse one, and reuses them.",
            coarse_sw=coarse_sw,
            coarse_d=coarse_d,
            fine_sw=fine_sw,
            fine_d=fine_d,
        ),
    )
    controls.record("resolution", "res", str(resolution), one_of(tuple(phase.RESOLUTIONS)))
    seed = controls.seed()

asked = phase.PhaseConfig(
    activation=activation,
    sigma_b=float(sigma_b),
    width=int(width),
    dataset=dataset,
    steps=int(cell_steps),
    resolution=str(resolution),
    seed=int(seed),
)
pc, _cuts = phase.fit_phase(asked)

with right:
    color_by = st.radio(
        _("Colour the cells by"),
        list(fig.COLOR_BY),
        key="color",
        horizontal=True,
        bind="query-params",
        help=_(
            "{choices}. Changing it redraws the diagram without training again.",
            choices="; ".join(f"{k}: {v[1]}" for k, v in fig.COLOR_BY.items()),
        ),
    )
    controls.record("color_by", "color", str(color_by), one_of(tuple(fig.COLOR_BY)))
    share.report()
    if notice := ap.cut_notice(asked, pc):
        st.info(notice, icon=":material/speed:")
    grid = runs.phase_grid(pc)
    sws, dps = phase.sigma_ws(pc), phase.depths(pc)
    question, asked_cell = predict.phase_question(grid, sws, dps, phase.TRAINED_BELOW)
    if not predict.gate("phase", [question], asked_cell):
        st.stop()
    critical = phase.critical_sigma_w(activation, pc.sigma_b)
    theory_cells = runs.phase_theory(activation, pc.sigma_b, tuple(sws))
    theory_line = runs.phase_theory(activation, pc.sigma_b, phase.theory_axis(sws, critical))

    # A click on a cell picks it (once per click: a stale selection must not undo a later pick below).
    clicked = fig.clicked_cell(st.session_state.get("phase_chart"))
    if clicked is not None and clicked != st.session_state.get("phase_last_click"):
        st.session_state["pick_sw"], st.session_state["pick_depth"] = clicked
    st.session_state["phase_last_click"] = clicked
    if st.session_state.get("pick_sw") not in sws:
        st.session_state["pick_sw"] = phase.nearest(sws, critical)
    if st.session_state.get("pick_depth") not in dps:
        st.session_state["pick_depth"] = phase.nearest(dps, ap.PICK_DEPTH)

    figure = fig.phase_figure(
        grid,
        theory_line,
        critical,
        color_by=color_by,
        selected=(st.session_state["pick_sw"], st.session_state["pick_depth"]),
        bounded=activation in ("tanh",),
    )
    charts.show(
        figure,
        key="phase_chart",
        on_select="rerun",
        selection_mode="points",
        alt=_("Final training loss of every weight scale and depth, the theory's trainable depth over it"),
    )
    for sentence in ap.grid_sentences(grid, theory_cells, critical):
        st.markdown(sentence)

    st.markdown(_("**Open one cell as a full run** — click a square, or pick it here:"))
    c1, c2 = st.columns(2)
    pick_sw = c1.selectbox("σ_w", sws, format_func=lambda v: numbers.num(v, 3), key="pick_sw")
    pick_depth = c2.selectbox(_("Hidden layers"), dps, key="pick_depth")
    row = grid[(grid["sigma_w"] == pick_sw) & (grid["depth"] == pick_depth)].iloc[0]
    st.markdown(ap.cell_sentence(row))
    params = cell_params(phase.cell_config(pc, pick_sw, pick_depth))
    l1, l2 = st.columns(2)
    with l1:
        share.page_link(
            "pages/training.py", _("Train it on the Training page"), params, icon=":material/model_training:"
        )
    with l2:
        share.page_link(
            "pages/depth.py",
            _("See its signal on the Depth page"),
            params,
            icon=":material/stacked_line_chart:",
        )

    st.header(ap.theory_heading(grid, critical), anchor=False)
    charts.show(
        fig.theory_figure(theory_line, critical, sws),
        alt=_("χ₁ and the depth scale ξ against the weight scale; χ₁ = 1 where ξ is unbounded"),
    )
    for sentence in ap.theory_sentences(theory_cells, critical, activation, pc.sigma_b):
        st.markdown(sentence)
    st.markdown(
        _(
            "**Where this theory does not apply.** It describes plain fully-connected networks (Schoenholz et "
            "al., 2017), and every network on this page is one: no normalization, no residual connections. "
            "Both change the layer-to-layer recursion, so neither the trainable-depth curve nor the critical scale "
            "on this page holds for them: with BatchNorm the gradients explode with depth at every weight scale "
            "(Yang et al., 2019, *A mean field theory of batch normalization*), and in residual networks signal "
            "and gradients change polynomially rather than exponentially with depth (Yang & Schoenholz, 2017, "
            "*Mean field residual networks*)."
        )
    )
    share.page_link(
        "pages/modern.py",
        _("Open the Normalization & residuals lesson"),
        {},
        icon=":material/stacked_bar_chart:",
    )
    takehome.show(phase.cell_config(pc, pick_sw, pick_depth), "phase", what=_("the picked cell"))
    share.link()
