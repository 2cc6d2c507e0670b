"""Every tab a lesson draws only when it is clicked, in a real browser: Symmetry's distinct units, Training's
accuracy and its views inside the networks, Depth's histograms and saturated units. The generic page checks
(tests/test_a11y.py, tests/test_browser.py) see only the tabs a page opens on; Normalization & residuals has
its own (tests/test_modern_browser.py).
"""

from __future__ import annotations

import pytest

from i18n import _, use
from tests import browser_util as bu
from tests.test_a11y import PHONE, _open, assert_charts_read_well, axe_violations
from ui import nav

LAPTOP = {"width": 1400, "height": 1000}
# Each lesson's tabs past the ones it opens on, in page order (the default experiment: 2-D data, so Training
# has its decision regions).
TABS = {
    "symmetry": ["Distinct units over training"],
    "training": ["Accuracy", "Gradient norms", "Step sizes", "Decision regions"],
    "depth": ["Histograms per layer", "Saturated or dead units"],
}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize(
    ("theme", "viewport", "lang"),
    [("light", LAPTOP, "en"), ("dark", PHONE, "en"), ("light", PHONE, "de")],
    ids=["laptop-light", "phone-dark", "phone-light-de"],  # German chart text is longer: it wraps differently
)
@pytest.mark.parametrize("lesson", list(TABS))
def test_each_clicked_tab_draws_and_reads_well(app_url, browser, artifacts, lesson, theme, viewport, lang):
    """A click opens the tab (selected, with a chart drawn in it); axe-core finds nothing, chart text is 4.5:1
    and at least 11 px, no chart text is cut or overlaps, and nothing scrolls sideways."""
    phone = viewport is PHONE
    spec = nav.by_url_path(lesson)
    ctx, page = _open(browser, app_url, spec, theme=theme, viewport=viewport, mobile=phone, lang=lang)
    try:
        for english in TABS[lesson]:
            with use(lang):
                label = _(english)
            tab = bu.open_tab(page, label)
            assert tab.get_attribute("aria-selected") == "true"
            panel = page.locator(f'[id="{tab.get_attribute("aria-controls")}"]')
            assert panel.locator(".js-plotly-plot .main-svg").count() >= 1, label  # its chart, drawn
            assert_charts_read_well(page, theme)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
            name = (
                f"{lesson}-{english.split()[0].lower()}-{'phone' if phone else 'laptop'}-{theme}-{lang}.png"
            )
            bu.screenshot(page, artifacts / name)
            violations = axe_violations(page)
            assert not violations, (label, violations)
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_symmetry_tab_travels_in_the_link(app_url, browser):
    """A student clicks Symmetry's second tab: the address bar and the share link name it (`view=distinct`),
    and the copied link opened in another browser shows that tab with its chart; tab 1 leaves `view` out."""
    ctx = browser.new_context(viewport=LAPTOP)
    other = browser.new_context(viewport=LAPTOP)
    try:
        page = ctx.new_page()
        bu.open_page(page, f"{app_url}/symmetry", charts=True)
        assert ("view", "weights") in bu.split_link(bu.share_link(page))[1]
        page.get_by_role("tab", name=TABS["symmetry"][0], exact=True).click()
        page.wait_for_url(lambda url: "view=distinct" in url, timeout=30_000)
        bu.wait_idle(page)
        link = bu.share_link(page)
        assert ("view", "distinct") in bu.split_link(link)[1]
        elsewhere = other.new_page()
        bu.open_page(elsewhere, link, charts=True)
        tab = elsewhere.get_by_role("tab", name=TABS["symmetry"][0], exact=True)
        assert tab.get_attribute("aria-selected") == "true"
        panel = elsewhere.locator(f'[id="{tab.get_attribute("aria-controls")}"]')
        assert panel.locator(".js-plotly-plot").count() == 1 and panel.locator(".main-svg").count() >= 1
        assert bu.error_texts(elsewhere) == []
        page.get_by_role("tab", name="The weights, one column per unit", exact=True).click()
        page.wait_for_url(lambda url: "view=" not in url, timeout=30_000)
    finally:
        ctx.close()
        other.close()
