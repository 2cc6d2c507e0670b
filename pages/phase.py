"""Lesson 4, the phase diagram: which initial weight scales train at which depth, with the theory drawn over it.

Widgets -> PhaseConfig -> cached grid of short training runs -> figures.phase; any cell opens as a full run.
"""

from __future__ import annotations

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import phase
from core.config import ExperimentConfig
from figures import phase as fig
from ui import charts, controls, nav, predict, runs, share, takehome


def phase_control(field: str, key: str, value: object, options: tuple) -> None:
    """Record a control that is not an ExperimentConfig field, so the share link and the URL notice see it."""
    text = controls.fmt_number(value) if isinstance(value, float) else str(value)
    allowed = "one of " + ", ".join(
        controls.fmt_number(o) if isinstance(o, float) else str(o) for o in options
    )
    controls.registered()[field] = controls.Control(field, key, value, (text,), allowed, text)


def cell_params(cfg: ExperimentConfig) -> dict[str, str]:
    """The URL parameters (CONTRIBUTING-TEAM.md keys) that open exactly this cell's run on another page."""
    keys = [
        "dataset",
        "n_samples",
        "noise",
        "depth",
        "width",
        "activation",
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


def open_link(page: str, label: str, params: dict[str, str], icon: str) -> None:
    """A link to another lesson with these parameters (a plain link if that page is not in the app yet)."""
    try:
        st.page_link(f"pages/{page}.py", label=label, icon=icon, query_params=params)
    except StreamlitAPIException:
        st.markdown(f"[{label}](./{page}?{urlencode(params)})")


nav.through_app()
share.begin("phase")

st.title("Phase diagram: which scales train at which depth")
st.markdown(
    "Every square below is a real network, its weights drawn from N(0, σ_w²/fan_in) and trained for a few "
    "hundred steps. Too small a scale and the signal fades layer by layer; too large and it turns to noise: "
    "either way a deep network cannot learn. Mean-field theory says how deep is too deep: a signal survives "
    f"about ξ layers, networks train up to about {phase.TRAINABLE_MULTIPLE:g} ξ (Schoenholz et al., 2017), "
    "and ξ is unbounded at the critical scale, where the per-layer gradient factor χ₁ is exactly 1."
)
st.latex(r"\chi_1 = \sigma_w^2\;\mathbb{E}_{u\sim\mathcal{N}(0,1)}\big[\phi'(\sqrt{q^*}\,u)^2\big]")

left, right = st.columns([1, 3])
with left:
    activation = controls.activation(
        default=phase.PhaseConfig.activation,
        options=phase.ACTIVATIONS,
        help="Sigmoid and GELU are not offered here: sigmoid's critical scale (σ_w ≈ 10) takes the theory "
        "minutes to compute, and for GELU χ₁ jumps past 1 instead of crossing it, so there is no edge to mark.",
    )
    sigma_b = st.select_slider(
        "Bias σ_b",
        options=phase.SIGMA_B_OPTIONS,
        value=phase.PhaseConfig.sigma_b,
        format_func=controls.fmt_number,
        key="sb",
        bind="query-params",
        help="Biases start as N(0, σ_b²); 0 means zero biases.",
    )
    phase_control("sigma_b", "sb", float(sigma_b), phase.SIGMA_B_OPTIONS)
    dataset = controls.dataset(default=phase.PhaseConfig.dataset)
    width = controls.width(default=phase.PhaseConfig.width, options=phase.WIDTH_OPTIONS)
    cell_steps = st.select_slider(
        "Steps per cell",
        options=phase.STEPS_OPTIONS,
        value=phase.PhaseConfig.steps,
        key="cellsteps",
        bind="query-params",
        help=f"Plain SGD steps of every cell (learning rate {phase.PhaseConfig.lr:g}, "
        f"batch {phase.PhaseConfig.batch_size}).",
    )
    phase_control("cell_steps", "cellsteps", int(cell_steps), phase.STEPS_OPTIONS)
    resolution = st.radio(
        "Grid",
        list(phase.RESOLUTIONS),
        key="res",
        bind="query-params",
        horizontal=True,
        help="; ".join(phase.RESOLUTION_LABELS.values())
        + ". The fine grid contains every cell of the coarse one, and reuses them.",
    )
    phase_control("resolution", "res", str(resolution), tuple(phase.RESOLUTIONS))
    seed = controls.seed()

pc, cuts = phase.fit_phase(
    phase.PhaseConfig(
        activation=activation,
        sigma_b=float(sigma_b),
        width=int(width),
        dataset=dataset,
        steps=int(cell_steps),
        resolution=str(resolution),
        seed=int(seed),
    )
)

with right:
    color_by = st.radio(
        "Colour the cells by",
        list(fig.COLOR_BY),
        key="color",
        horizontal=True,
        bind="query-params",
        help="; ".join(f"{k}: {v[1]}" for k, v in fig.COLOR_BY.items())
        + ". Changing it redraws the diagram without training again.",
    )
    phase_control("color_by", "color", str(color_by), tuple(fig.COLOR_BY))
    share.report()
    if cuts:
        st.info("To keep this grid within seconds: " + "; ".join(cuts) + ".", icon=":material/speed:")
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
        st.session_state["pick_depth"] = phase.nearest(dps, 20)

    figure = fig.phase_figure(
        grid,
        theory_line,
        critical,
        color_by=color_by,
        selected=(st.session_state["pick_sw"], st.session_state["pick_depth"]),
    )
    charts.show(
        figure,
        key="phase_chart",
        on_select="rerun",
        selection_mode="points",
        alt="Final training loss of every weight scale and depth, the theory's trainable depth over it",
    )
    for sentence in fig.grid_sentences(grid, theory_cells, critical):
        st.markdown(sentence)

    st.markdown("**Open one cell as a full run** — click a square, or pick it here:")
    c1, c2 = st.columns(2)
    pick_sw = c1.selectbox("σ_w", sws, format_func=lambda v: f"{v:.3g}", key="pick_sw")
    pick_depth = c2.selectbox("Hidden layers", dps, key="pick_depth")
    row = grid[(grid["sigma_w"] == pick_sw) & (grid["depth"] == pick_depth)].iloc[0]
    st.markdown(fig.cell_sentence(row))
    params = cell_params(phase.cell_config(pc, pick_sw, pick_depth))
    l1, l2 = st.columns(2)
    with l1:
        open_link("training", "Train it on the Training page", params, ":material/model_training:")
    with l2:
        open_link("depth", "See its signal on the Depth page", params, ":material/stacked_line_chart:")

    st.subheader("Why the band is widest at the critical scale")
    charts.show(
        fig.theory_figure(theory_line, critical, sws),
        alt="χ₁ and the depth scale ξ against the weight scale; χ₁ = 1 where ξ is unbounded",
    )
    for sentence in fig.theory_sentences(theory_cells, critical, activation, pc.sigma_b):
        st.markdown(sentence)
    takehome.show(phase.cell_config(pc, pick_sw, pick_depth), "phase", what="the picked cell")
    share.link()
    predict.share_option()
