"""The lessons of Init Lab: file, stable url_path, title, icon and one line each, in navigation order.

app.py builds the navigation from this list (`run_app`); home and tests reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from i18n import N_, Text


@dataclass(frozen=True)
class PageSpec:
    file: str  # relative to the repo root
    url_path: str  # stable: share links contain it; "" is the home page
    title: Text  # N_(...): translated when shown, in the session's language
    icon: str  # a Material Symbols name, ":material/...:"
    help: Text  # navigation tooltip
    you_will_see: Text  # the home page's one line about the lesson
    has_charts: bool = True  # the browser test waits for Plotly charts on pages that have them


HOME = PageSpec(
    "pages/home.py",
    "",
    N_("Home"),
    ":material/home:",
    N_("The question, the short answer, and one-click links into each lesson."),
    "",
    has_charts=False,
)
LESSONS: tuple[PageSpec, ...] = (
    PageSpec(
        "pages/symmetry.py",
        "symmetry",
        N_("Symmetry"),
        ":material/content_copy:",
        N_("Zero, constant and small random starts side by side: do the units stay identical?"),
        N_(
            "Start every weight equal and the units of a layer stay clones of each other: the network "
            "trains like one unit per layer."
        ),
    ),
    PageSpec(
        "pages/depth.py",
        "depth",
        N_("Depth"),
        ":material/stacked_line_chart:",
        N_("The signal through many layers at initialization, against the mean-field prediction."),
        N_(
            "Activations and gradients layer by layer: too small and they vanish, too large and they "
            "explode or saturate; 1/√fan_in scaling keeps them steady."
        ),
    ),
    PageSpec(
        "pages/training.py",
        "training",
        N_("Training"),
        ":material/model_training:",
        N_("Several init schemes trained on the same data with the same seed."),
        N_(
            "Loss and accuracy curves, gradient flow and decision boundaries of several schemes trained "
            "side by side."
        ),
    ),
    PageSpec(
        "pages/phase.py",
        "phase",
        N_("Phase diagram"),
        ":material/grid_on:",
        N_("Final loss over weight scale × depth, with the theoretical trainable-depth curve."),
        N_(
            "Which weight scales train at which depth: the region where deep networks learn, and the "
            "theory's curve over it."
        ),
    ),
    PageSpec(
        "pages/modern.py",
        "modern",
        N_("Normalization & residuals"),
        ":material/alt_route:",
        N_(
            "BatchNorm, LayerNorm and residual connections against a bad start, with the theory of the stream."
        ),
        N_(
            "Normalization rescues a bad scale but not a symmetric start; residual streams grow block by "
            "block unless the branch is scaled down."
        ),
    ),
)
PAGES: tuple[PageSpec, ...] = (HOME, *LESSONS)


_THROUGH_APP = "_initlab_through_app"  # session flag: this session's runs go through app.py


def run_app() -> None:
    """app.py: the navigation over every page (a menu at the top), then the page the URL names."""
    st.session_state[_THROUGH_APP] = True
    pages = [
        st.Page(
            p.file,
            title=str(p.title),  # translated now, in this session's language
            icon=p.icon,
            url_path=p.url_path or None,
            default=p is HOME,
            help=str(p.help),
        )
        for p in PAGES
    ]
    st.navigation(pages, position="top").run()


def through_app() -> None:
    """First line of every lesson page: make sure the page runs inside app.py's navigation.

    Until some session has called st.navigation, Streamlit treats a folder named pages/ the legacy way:
    the very first visit after a server start to /depth runs pages/depth.py alone (no menu, no wide
    layout). Calling st.navigation once switches the server out of that mode for good; the rerun then
    goes through app.py. The flag is set first, so this reruns at most once per session.
    """
    if not st.session_state.get(_THROUGH_APP):
        st.session_state[_THROUGH_APP] = True
        st.navigation([st.Page(p.file, url_path=p.url_path or None, default=p is HOME) for p in PAGES])
        st.rerun()


def by_url_path(url_path: str) -> PageSpec:
    for p in PAGES:
        if p.url_path == url_path:
            return p
    raise KeyError(url_path)
