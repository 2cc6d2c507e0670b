"""Every student's device: light and dark themes, WCAG contrast of every chart colour, axe-core on every page,
chart text size and colour in the real browser, and the phone layout (390 px) of every lesson.

axe-core comes from npm (tests/node/package.json, installed by .ci/run); without it those tests skip.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import plotly.graph_objects as go
import pytest

from tests import browser_util as bu
from core.initializers import SCHEMES
from figures import style
from ui import nav

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"
THEMES = ("light", "dark")
PHONE = {"width": 390, "height": 844}


def _config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


# --- colours, without a browser ---------------------------------------------------------------------------


def test_contrast_formula():
    """WCAG's own reference points: black on white is 21:1, a colour on itself 1:1, #767676 on white 4.54:1."""
    assert style.contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert style.contrast("#0072B2", "#0072B2") == pytest.approx(1.0)
    assert style.contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)


def test_both_themes_are_configured_and_match_the_chart_backgrounds():
    """No fixed base: [theme.light] and [theme.dark] let the device choose and the menu switch."""
    theme = _config()["theme"]
    assert "base" not in theme
    for name in THEMES:
        assert theme[name]["backgroundColor"].upper() == style.BACKGROUNDS[name].upper()
        # body text and the primary colour (slider values, links) read as text on the page
        assert style.contrast(theme[name]["textColor"], theme[name]["backgroundColor"]) >= 4.5
        assert style.contrast(theme[name]["primaryColor"], theme[name]["backgroundColor"]) >= 4.5


def test_light_captions_reach_aa():
    """Streamlit draws captions in the text colour at 60 % opacity: still 4.5:1 on the light background."""
    light = _config()["theme"]["light"]
    r, g, b = (int(light["textColor"][i : i + 2], 16) for i in (1, 3, 5))
    caption = "#%02X%02X%02X" % tuple(round(0.6 * c + 0.4 * 255) for c in (r, g, b))
    assert style.contrast(caption, light["backgroundColor"]) >= 4.5


def test_an_invisible_mark_stays_invisible():
    """readable() shifts a colour's lightness until it reaches 3:1; a fully transparent one (the Phase page's
    clickable cells) has nothing to read and must not turn grey."""
    for c in ("rgba(0,0,0,0)", "rgba(0, 0, 0, 0)", "transparent"):
        assert style.readable(c) == c
    assert style.readable("rgba(0,0,0,0.5)") != "rgba(0,0,0,0.5)"


def test_every_scheme_of_the_registry_has_its_own_colour():
    assert set(style.SCHEME_COLORS) == set(SCHEMES)  # a new scheme needs a colour in figures/style.py


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_every_scheme_colour_is_a_readable_mark_in_both_themes(scheme):
    color = style.SCHEME_COLORS[scheme]
    for bg in style.BACKGROUNDS.values():
        assert style.contrast(color, bg) >= style.MARK_CONTRAST, (scheme, color, bg)


def test_every_template_colour_is_readable_in_both_themes():
    t = style.pio.templates[style.TEMPLATE_NAME].layout
    for color in [*t.colorway, style.FALLBACK_COLOR]:
        assert style.min_contrast(color) >= style.MARK_CONTRAST, color
    assert t.font.size >= style.MIN_FONT_SIZE
    # the light theme's chart axis text, darkened by ui.charts.PAGE_CSS, on both light backgrounds
    from ui import charts

    light = _config()["theme"]["light"]
    for bg in (light["backgroundColor"], light["secondaryBackgroundColor"]):
        assert style.contrast(charts.AXIS_TEXT_LIGHT, bg) >= 4.5


def test_scheme_colours_stay_distinct():
    """Shifting lightness must not merge two schemes: every pair differs visibly (RGB distance)."""
    colors = list(style.SCHEME_COLORS.values())
    assert len(set(colors)) == len(colors)
    rgb = [style._rgb(c) for c in colors]
    gaps = [sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5 for i, a in enumerate(rgb) for b in rgb[i + 1 :]]
    assert min(gaps) > 0.08


def test_readable_figure_fixes_small_and_faint_text_and_faint_lines():
    fig = go.Figure(go.Scatter(y=[1, 2], line=dict(color="#56B4E9"), marker=dict(color="#000000")))
    fig.add_annotation(text="note", font=dict(size=9, color="#999999"), x=0, y=1)
    fig.update_xaxes(tickfont=dict(size=8, color="#000000"))
    style.readable_figure(fig)
    ann = fig.layout.annotations[0]
    assert ann.font.size == style.MIN_FONT_SIZE and ann.font.color is None  # grey text: the theme's colour
    assert fig.layout.xaxis.tickfont.size == style.MIN_FONT_SIZE and fig.layout.xaxis.tickfont.color is None
    assert style.min_contrast(fig.data[0].line.color) >= style.MARK_CONTRAST
    assert style.min_contrast(fig.data[0].marker.color) >= style.MARK_CONTRAST
    fig.update_yaxes(type="log")
    style.readable_figure(fig)
    assert fig.layout.yaxis.minorloglabels == "none"  # no 9 px digits between decades
    # a colour that already reads on both stays as it is
    assert style.readable("#0072B2") == "#0072B2"


def test_wrap_keeps_words_and_breaks():
    assert (
        style.wrap("Xavier (Glorot) uniform (reference)", 16) == "Xavier (Glorot)<br>uniform<br>(reference)"
    )
    assert style.wrap("a<br>b c", 10) == "a<br>b c"


def test_every_chart_has_a_text_alternative_from_its_figure():
    from ui import charts

    fig = go.Figure([go.Scatter(y=[1, 2], name="He (Kaiming) normal"), go.Scatter(y=[2, 1], name="Zeros")])
    fig.update_layout(title="Loss<br>per step", xaxis_title="step", yaxis_title="loss")
    assert charts.describe(fig) == "Loss per step; x: step, y: loss; series: He (Kaiming) normal, Zeros."


# --- the real browser --------------------------------------------------------------------------------------


def _url(app_url: str, spec: nav.PageSpec, lang: str = "en") -> str:
    return f"{app_url}/{spec.url_path}" + ("" if lang == "en" else f"?lang={lang}")


def _open(browser, app_url, spec, *, theme="light", viewport=None, mobile=False, lang="en"):
    ctx = browser.new_context(
        viewport=viewport or {"width": 1400, "height": 1000}, color_scheme=theme, is_mobile=mobile
    )
    page = ctx.new_page()
    bu.open_page(page, _url(app_url, spec, lang), charts=spec.has_charts)
    if spec.has_charts:  # charts below the fold draw when scrolled to
        charts = page.locator('[data-testid="stPlotlyChart"]')
        for i in range(charts.count()):
            charts.nth(i).scroll_into_view_if_needed()
        page.wait_for_timeout(800)
    return ctx, page


PAGE_IDS = [p.url_path or "home" for p in nav.PAGES]
LESSON_IDS = [p.url_path for p in nav.LESSONS]


CHART_TEXT = """() => [...document.querySelectorAll('.js-plotly-plot text')]
    .filter(t => t.textContent.trim() && t.getBBox().width > 0)
    .filter(t => !t.closest('.heatmaplayer, .textpoint, .hoverlayer'))  // drawn on the data's colours
    .map(t => { const cs = getComputedStyle(t);
                return [t.textContent.trim().slice(0, 40), cs.fill, parseFloat(cs.fontSize)]; })"""
LAYOUT_JS = (Path(__file__).parent / "chart_layout.js").read_text()


APP_BACKGROUND = "() => getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"


def _background(page) -> str:
    """The app's background colour as drawn, '#RRGGBB'."""
    return _hex(page.evaluate(APP_BACKGROUND))


def _hex(css: str) -> str:
    r, g, b = (int(float(v)) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return "#%02X%02X%02X" % (r, g, b)


def axe_violations(page) -> list[str] | None:
    """axe-core 4's violations on the page as drawn (every rule it runs by default, any impact); None when
    axe-core is not installed (npm ci --prefix tests/node)."""
    if not AXE.is_file():
        return None
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(
            v => `${v.id} (${v.impact}): ${v.nodes.length}x, e.g. ${v.nodes[0].target.join(' ')}`)"""
    )


def assert_charts_read_well(page, theme: str) -> None:
    """Outside axe's reach: every chart text as drawn is 4.5:1 on the page and at least 11 px, and no chart
    text is cut or overlaps another."""
    texts = page.evaluate(CHART_TEXT)
    assert texts, "no chart text found"
    bg = style.BACKGROUNDS[theme]
    assert {(t, _hex(fill)) for t, fill, _ in texts if style.contrast(_hex(fill), bg) < 4.5} == set()
    assert {(t, size) for t, _, size in texts if size < style.MIN_FONT_SIZE} == set()
    assert page.evaluate(LAYOUT_JS) == []


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("spec", nav.PAGES, ids=PAGE_IDS)
def test_page_in_each_theme(app_url, browser, spec, theme):
    """The device's theme is the page's; axe-core 4 (every rule it runs by default, any impact) finds nothing;
    outside axe's reach, every chart text as drawn is 4.5:1 on the page and at least 11 px; and at laptop
    width no chart text is cut or overlaps another."""
    ctx, page = _open(browser, app_url, spec, theme=theme)
    try:
        assert _background(page) == style.BACKGROUNDS[theme].upper()
        if spec.has_charts:
            assert_charts_read_well(page, theme)
        violations = axe_violations(page)
        if violations is None:
            pytest.skip(f"axe-core is not installed ({AXE}); run: npm ci --prefix tests/node")
        assert violations == []
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_menu_switches_between_light_and_dark(app_url, browser):
    """A device in light mode: the menu (⋮) turns the page and its charts dark, the choice survives a reload
    and the next lesson, axe-core finds nothing in it, and "System" goes back to the device's theme."""
    ctx, page = _open(browser, app_url, nav.by_url_path("symmetry"), theme="light")

    def pick(name: str, theme: str) -> None:
        page.locator('[data-testid="stMainMenu"]').click()
        page.locator(f'[data-testid="stMainMenuItem-theme-{name}"]').click()  # a menuitemradio
        rgb = _css_rgb(style.BACKGROUNDS[theme])
        page.wait_for_function(f"() => ({APP_BACKGROUND})() === '{rgb}'", timeout=10_000)
        page.keyboard.press("Escape")

    try:
        pick("Dark", "dark")
        page.wait_for_timeout(500)  # the charts redraw in the new theme
        assert_charts_read_well(page, "dark")
        bu.open_page(page, page.url, charts=True)  # a reload
        assert _background(page) == style.BACKGROUNDS["dark"].upper()
        page.locator('[data-testid="stTopNavLink"]', has_text="Training").click()
        page.wait_for_url("**/training**")
        bu.wait_idle(page)
        assert _background(page) == style.BACKGROUNDS["dark"].upper()
        violations = axe_violations(page)
        assert not violations, violations
        pick("System", "light")
    finally:
        ctx.close()


def _css_rgb(color: str) -> str:
    """'#0E1117' as getComputedStyle writes it: 'rgb(14, 17, 23)'."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "de"])  # German chart text is longer: it wraps and overlaps otherwise
@pytest.mark.parametrize("spec", nav.LESSONS, ids=LESSON_IDS)
def test_lesson_on_a_phone(app_url, browser, artifacts, spec, lang):
    """390 px: the first result within 1.5 screens, nothing scrolls sideways, no chart text is cut or
    overlaps another, formulas scroll inside their own box, and axe-core finds nothing."""
    ctx, page = _open(browser, app_url, spec, viewport=PHONE, mobile=True, lang=lang)
    try:
        first = page.evaluate(
            """() => { const main = document.querySelector('[data-testid="stMain"]');
                       const el = document.querySelector('[data-testid="stMetric"], [data-testid="stPlotlyChart"]');
                       return el.getBoundingClientRect().top + main.scrollTop; }"""
        )
        assert first < 1.5 * PHONE["height"], f"first result at {first:.0f} px"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.evaluate(LAYOUT_JS) == []
        for box in page.locator('.st-key-depth_formulas summary').all():  # formulas drawn only while open
            box.click()
            page.wait_for_selector(".katex-display", timeout=60_000)
            bu.wait_idle(page)
        formulas = page.evaluate(
            """() => [...document.querySelectorAll('.katex-display')].map(k => [
                k.scrollWidth <= k.clientWidth + 1 || ['auto', 'scroll'].includes(getComputedStyle(k).overflowX),
                k.getBoundingClientRect().right <= window.innerWidth + 1])"""
        )
        assert all(fits and inside for fits, inside in formulas)
        assert formulas or spec.url_path == "modern"  # Modern's formulas are in its third tab
        bu.screenshot(page, artifacts / f"{spec.url_path}-phone-{lang}.png")
        page.mouse.move(0, 0)  # no tooltip open while axe runs
        violations = axe_violations(page)  # a phone has its own: boxes that scroll sideways, stacked columns
        assert not violations, violations
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.slow
def test_home_lists_lessons_in_menu_order_on_a_phone(app_url, browser, artifacts):
    ctx, page = _open(browser, app_url, nav.HOME, viewport=PHONE, mobile=True, theme="dark")
    try:
        titles = {str(p.title) for p in nav.LESSONS}
        shown = [
            h.inner_text().strip()
            for h in page.locator('[data-testid="stMain"] h3').all()
            if h.inner_text().strip() in titles
        ]
        tops = [
            page.locator('[data-testid="stMain"] h3', has_text=str(p.title)).first.bounding_box()["y"]
            for p in nav.LESSONS
        ]
        assert shown == [str(p.title) for p in nav.LESSONS]
        assert tops == sorted(tops), "stacked columns put the lessons out of order"
        bu.screenshot(page, artifacts / "home-phone-dark.png")
    finally:
        ctx.close()
