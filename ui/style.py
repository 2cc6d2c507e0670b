"""One look for every chart: a colour per init scheme (colour-blind safe) and a shared Plotly template.

Pure data plus plotly (no streamlit), so figure builders can use the same colours as the pages.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import sample_colorscale

from core.initializers import SCHEMES
from core.initializers import scheme_label as _scheme_label

# Families share a hue from the Okabe-Ito palette (safe for the common colour-vision deficiencies);
# within a family the normal variant is dark and solid, the uniform variant light and dashed.
SCHEME_COLORS: dict[str, str] = {
    "zeros": "#000000",
    "constant": "#999999",
    "normal": "#CC79A7",
    "truncated_normal": "#882255",
    "uniform": "#E69F00",
    "standard_uniform": "#8C6D1F",
    "lecun_normal": "#009E73",
    "lecun_uniform": "#66C2A5",
    "xavier_normal": "#0072B2",
    "xavier_uniform": "#56B4E9",
    "he_normal": "#D55E00",
    "he_uniform": "#F4A582",
    "orthogonal": "#6A3D9A",
    "lsuv": "#B8A000",
}
SCHEME_IDS: tuple[str, ...] = tuple(SCHEME_COLORS)

FALLBACK_COLOR = "#777777"
LAYER_COLORSCALE = "Viridis"  # sequential, colour-blind safe, readable in greyscale
DIVERGING_COLORSCALE = "RdBu"
FONT_SIZE = 14


def scheme_ids() -> tuple[str, ...]:
    """Every init scheme id, in the order of core.initializers.SCHEMES."""
    return tuple(SCHEMES)


def scheme_label(scheme: str) -> str:
    """The one human label of a scheme id (core.initializers.SCHEMES)."""
    return _scheme_label(scheme)


def scheme_color(scheme: str) -> str:
    """The colour of a scheme in every chart of the app."""
    return SCHEME_COLORS.get(scheme, FALLBACK_COLOR)


def scheme_dash(scheme: str) -> str:
    """Plotly line dash of a scheme: dashed for the uniform variants, solid otherwise."""
    return "dash" if "uniform" in scheme else "solid"


def layer_colors(n_layers: int) -> list[str]:
    """n colours from the sequential layer scale: layer 1 dark, the last layer bright."""
    if n_layers <= 1:
        return sample_colorscale(LAYER_COLORSCALE, [0.0])
    return sample_colorscale(LAYER_COLORSCALE, [i / (n_layers - 1) * 0.9 for i in range(n_layers)])


def _template() -> go.layout.Template:
    base = pio.templates["plotly_white"]
    t = go.layout.Template(base)
    t.layout.update(
        font=dict(size=FONT_SIZE),
        margin=dict(l=50, r=20, t=50, b=45),
        # Legend above the plot: keeps the plotting area wide on a phone.
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text=""),
        hoverlabel=dict(font_size=FONT_SIZE),
        colorway=[
            SCHEME_COLORS[s]
            for s in (
                "xavier_normal",
                "he_normal",
                "lecun_normal",
                "normal",
                "uniform",
                "orthogonal",
                "zeros",
                "lsuv",
            )
        ],
    )
    return t


TEMPLATE_NAME = "initlab"
pio.templates[TEMPLATE_NAME] = _template()


def apply(fig: go.Figure, height: int | None = None) -> go.Figure:
    """Give a figure the app's template (and a height); returns the same figure."""
    fig.update_layout(template=TEMPLATE_NAME)
    if height is not None:
        fig.update_layout(height=height)
    return fig
