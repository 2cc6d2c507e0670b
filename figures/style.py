"""One look for every chart: a colour per init scheme and per layer, the Plotly template, readable_figure.

Pure data plus plotly (no streamlit): figure builders and pages draw with the same colours.
"""

from __future__ import annotations

import colorsys

import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import sample_colorscale

# Families share a hue from the Okabe-Ito palette (safe for the common colour-vision deficiencies);
# within a family the normal variant is dark and solid, the uniform variant lighter and dashed. Every colour
# is a line or mark on the light and on the dark background alike, so its relative luminance lies between
# 0.12 and 0.30: at least 3:1 against both (WCAG 1.4.11; tests/test_a11y.py checks each one).
SCHEME_COLORS: dict[str, str] = {
    "zeros": "#6D6D6D",
    "constant": "#868686",
    "normal": "#C5689C",
    "truncated_normal": "#BB2F75",
    "uniform": "#B47C00",
    "standard_uniform": "#917120",
    "lecun_normal": "#007B5A",
    "lecun_uniform": "#3C9679",
    "xavier_normal": "#0072B2",
    "xavier_uniform": "#1B8DCE",
    "he_normal": "#B24E00",
    "he_uniform": "#E95614",
    "orthogonal": "#8654BB",
    "lsuv": "#8E7C00",
    "sparse": "#D1495B",
}

FALLBACK_COLOR = "#777777"
LAYER_COLORSCALE = "Viridis"  # sequential, colour-blind safe, readable in greyscale
DIVERGING_COLORSCALE = "RdBu"
FONT_SIZE = 14
MIN_FONT_SIZE = 11  # px: no chart text smaller (the phone check)
# The page backgrounds of .streamlit/config.toml's [theme.light] and [theme.dark] (a test keeps them equal).
BACKGROUNDS: dict[str, str] = {"light": "#FFFFFF", "dark": "#0E1117"}
TEXT_CONTRAST = 4.5  # WCAG AA, normal text
MARK_CONTRAST = 3.0  # WCAG 1.4.11, lines and marks


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


def _rgb(color: str) -> tuple[float, float, float] | None:
    """(r, g, b) in 0..1 of a "#RRGGBB", "#RGB", "rgb(...)" or "rgba(...)" colour; None for anything else."""
    c = color.strip().lower()
    if c.startswith("#") and len(c) in (4, 7):
        h = c[1:] if len(c) == 7 else "".join(ch * 2 for ch in c[1:])
        try:
            return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]
        except ValueError:
            return None
    if c.startswith(("rgb(", "rgba(")):
        try:
            parts = [float(v) for v in c[c.index("(") + 1 : c.rindex(")")].split(",")]
        except ValueError:
            return None
        if len(parts) >= 3:
            return parts[0] / 255, parts[1] / 255, parts[2] / 255
    return NAMED_COLORS.get(c)


NAMED_COLORS: dict[str, tuple[float, float, float]] = {
    "black": (0.0, 0.0, 0.0),
    "white": (1.0, 1.0, 1.0),
    "gray": (128 / 255,) * 3,
    "grey": (128 / 255,) * 3,
}


def luminance(color: str) -> float:
    """WCAG relative luminance of a colour (0 black .. 1 white)."""
    rgb = _rgb(color)
    if rgb is None:
        raise ValueError(f"not a colour: {color!r}")
    lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 .. 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def min_contrast(color: str) -> float:
    """The lower of a colour's contrasts against the light and the dark page background."""
    return min(contrast(color, bg) for bg in BACKGROUNDS.values())


def _invisible(color: str) -> bool:
    """A fully transparent colour ("rgba(0,0,0,0)", "transparent")."""
    c = color.strip().lower().replace(" ", "")
    return c == "transparent" or (c.startswith("rgba(") and c.rstrip(")").split(",")[-1] in ("0", "0.0"))


def readable(color: str, ratio: float = MARK_CONTRAST) -> str:
    """The colour itself if it reaches `ratio` on both backgrounds, else the same hue at the lightness that
    does (as "#RRGGBB"); only marks can reach 3:1 on both (text needs the theme's own text colour)."""
    rgb = _rgb(color)
    if rgb is None or _invisible(color) or min_contrast(color) >= ratio:  # nothing to read in an invisible mark
        return color
    hue, light, sat = colorsys.rgb_to_hls(*rgb)
    lo, hi = 0.0, 1.0
    best = color
    for _ in range(30):  # bisect the lightness for the best worst-case contrast
        mid = (lo + hi) / 2
        cand = "#%02X%02X%02X" % tuple(round(v * 255) for v in colorsys.hls_to_rgb(hue, mid, sat))
        on_light, on_dark = (contrast(cand, BACKGROUNDS[k]) for k in ("light", "dark"))
        best = cand
        if on_light < on_dark:
            hi = mid
        else:
            lo = mid
    return best


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


def _fix_font(font) -> None:
    if font is None:
        return
    if font.size is not None and font.size < MIN_FONT_SIZE:
        font.size = MIN_FONT_SIZE
    # No text colour reads at 4.5:1 on both backgrounds: text keeps the theme's text colour.
    if isinstance(font.color, str) and _rgb(font.color) is not None:
        if min_contrast(font.color) < TEXT_CONTRAST:
            font.color = None


def readable_figure(fig: go.Figure) -> go.Figure:
    """Make a figure readable in both themes, in place: chart text at least MIN_FONT_SIZE px and in the
    theme's text colour unless its own reaches 4.5:1 on both backgrounds; line and marker colours at least
    3:1 on both (same hue, shifted lightness). Heatmap colour scales and fills are left alone."""
    layout = fig.layout
    _fix_font(layout.font)
    if layout.title is not None:
        _fix_font(layout.title.font)
    for ann in layout.annotations or ():
        _fix_font(ann.font)
    if layout.legend is not None:
        _fix_font(layout.legend.font)
    for name in dir(layout):
        if name.startswith(("xaxis", "yaxis")) and layout[name] is not None:
            axis = layout[name]
            _fix_font(axis.tickfont)
            if axis.type == "log" and axis.minorloglabels is None:
                axis.minorloglabels = "none"  # Plotly draws the 2s and 5s between decades at 9 px
            if axis.title is not None:
                _fix_font(axis.title.font)
    _fit_narrow(fig)
    for trace in fig.data:
        line = getattr(trace, "line", None)
        if line is not None and isinstance(line.color, str):
            line.color = readable(line.color)
        marker = getattr(trace, "marker", None)
        if marker is not None and isinstance(marker.color, str):
            marker.color = readable(marker.color)
        textfont = getattr(trace, "textfont", None)
        if textfont is not None and isinstance(textfont.size, (int, float)) and textfont.size < MIN_FONT_SIZE:
            textfont.size = MIN_FONT_SIZE
    return fig


# A phone (390 px) leaves a chart about 330 px of width: panel titles wrap to fit it.
PHONE_FIGURE_PX = 334  # a whole figure: 390 px less the page padding
PHONE_CHART_PX = 260  # its plotting area, less the usual axis margins


def wrap(text: str, chars: int) -> str:
    """Break text into lines of at most `chars` characters at spaces ("<br>" between lines); words stay whole
    and lines the text already breaks stay broken."""
    out = []
    for line in str(text).split("<br>"):
        words, cur = line.split(" "), ""
        for w in words:
            if cur and len(_visible(cur)) + 1 + len(_visible(w)) > chars:
                out.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}" if cur else w
        out.append(cur)
    return "<br>".join(out)


def _visible(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text)


def panel_columns(fig: go.Figure) -> int:
    """How many panels a figure has side by side (distinct x domains)."""
    layout = fig.layout
    return len(
        {
            tuple(layout[n].domain)
            for n in dir(layout)
            if n.startswith("xaxis") and layout[n] is not None and layout[n].domain
        }
        or {0}
    )


def _fit_narrow(fig: go.Figure) -> None:
    """Panel titles that fit a phone: they wrap to their panel's width (at most 12 px), and narrow panels
    get fewer x ticks. (A figure's own title is drawn as page text above it: ui.charts.show.)"""
    layout = fig.layout
    # Subplot titles: paper annotations anchored at the bottom, above a panel.
    domains = {}
    for name in dir(layout):
        if name.startswith("xaxis") and layout[name] is not None and layout[name].domain:
            d = tuple(layout[name].domain)
            domains[name] = d
    lines = 1
    for ann in layout.annotations or ():
        if ann.xref != "paper" or ann.yref != "paper" or ann.yanchor != "bottom" or not ann.text:
            continue
        width = next(
            (d[1] - d[0] for d in domains.values() if d[0] - 1e-6 <= (ann.x or 0) <= d[1] + 1e-6), 1.0
        )
        px = width * PHONE_CHART_PX
        if ann.xanchor in ("left", "right"):  # a note at one side of the top: it shares the row with another
            width = min(width, 0.4)
            # its share of the plot's phone width, and of the side margin it reaches into (its xshift)
            plot = min(PHONE_CHART_PX, PHONE_FIGURE_PX - (layout.margin.l or 0) - (layout.margin.r or 0))
            px = width * plot + abs(ann.xshift or 0)
        if width < 0.9:
            size = min(ann.font.size or 12, 12) if ann.font is not None else 12
            ann.font.size = size if width >= 0.3 else MIN_FONT_SIZE
            ann.text = wrap(ann.text, max(8, int(px / (0.55 * ann.font.size))))
            lines = max(lines, ann.text.count("<br>") + 1)
    if lines > 1:  # room above the panels for the wrapped titles
        layout.margin.t = max(layout.margin.t or 0, 15 * lines + 12)
    bars = [getattr(t, "colorbar", None) for t in fig.data]
    bars += [layout[n].colorbar for n in dir(layout) if n.startswith("coloraxis") and layout[n] is not None]
    for bar in bars:  # a horizontal colour bar under a narrow panel: three ticks
        if bar is not None and bar.orientation == "h" and (bar.len or 1) < 0.6:
            bar.nticks = 3
    for name, (lo, hi) in domains.items():
        if hi - lo < 0.3 and (layout[name].nticks or 99) > 3:
            layout[name].nticks = 3
