"""The Normalization & residuals lesson in a real browser, tab by tab: each of its four experiments opened by
a click, at laptop width in the light theme and on a phone in the dark one (axe, chart text, layout, formulas).

The generic page checks (tests/test_a11y.py, tests/test_browser.py) see only the tab the page opens on.
"""

from __future__ import annotations

import pytest

from tests import browser_util as bu
from tests.test_a11y import AXE, PHONE, _open, assert_charts_read_well, axe_violations
from tests.test_modern_page import TABS
from ui import nav

LAPTOP = {"width": 1400, "height": 1000}
CHARTS = (2, 1, 1, 1)  # charts of each tab: the rescue part draws two side by side
VISIBLE_CHARTS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .filter(c => c.getBoundingClientRect().height > 0).length"""


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize(
    ("theme", "viewport"), [("light", LAPTOP), ("dark", PHONE)], ids=["laptop-light", "phone-dark"]
)
def test_each_tab_opens_on_a_click_and_reads_well(app_url, browser, artifacts, theme, viewport):
    """The page opens on tab 1 with its two charts only; a click opens each other part (its heading, its
    charts, nothing of the others); axe-core finds nothing, chart text is 4.5:1 and at least 11 px, no chart
    text is cut or overlaps, nothing scrolls sideways and the formulas of tab 3 scroll inside their own box."""
    phone = viewport is PHONE
    ctx, page = _open(
        browser, app_url, nav.by_url_path("modern"), theme=theme, viewport=viewport, mobile=phone
    )
    try:
        assert [t.inner_text().strip() for t in page.get_by_role("tab").all()] == list(TABS)
        assert page.evaluate(VISIBLE_CHARTS) == CHARTS[0]
        for i in range(len(TABS)):
            bu.open_tab(page, TABS[i])
            assert page.get_by_role("tab", selected=True).inner_text().strip() == TABS[i]
            headings = [h.inner_text().strip() for h in page.locator('[data-testid="stMain"] h2').all()]
            assert [h[:2] for h in headings if h[:1].isdigit()] == [f"{i + 1}."], headings
            assert page.evaluate(VISIBLE_CHARTS) == CHARTS[i]
            assert_charts_read_well(page, theme)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
            formulas = page.evaluate(
                """() => [...document.querySelectorAll('.katex-display')].map(k => [
                    k.scrollWidth <= k.clientWidth + 1 || ['auto', 'scroll'].includes(getComputedStyle(k).overflowX),
                    k.getBoundingClientRect().right <= window.innerWidth + 1])"""
            )
            assert (len(formulas) == 4) == (i == 2)
            assert all(fits and inside for fits, inside in formulas)
            bu.screenshot(page, artifacts / f"modern-tab{i + 1}-{'phone' if phone else 'laptop'}-{theme}.png")
            violations = axe_violations(page)
            assert not violations, (TABS[i], violations)
        if not AXE.is_file():
            pytest.skip(f"axe-core is not installed ({AXE}); run: npm ci --prefix tests/node")
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_link_opens_its_tab_and_the_address_follows_a_click(app_url, browser):
    """`?part=race` opens tab 4 (a teacher's link to the race); a click on another tab puts it into the address
    and the share link; the first tab, where the page opens, leaves the address without `part`."""
    ctx = browser.new_context(viewport=LAPTOP)
    page = ctx.new_page()
    try:
        bu.open_page(page, f"{app_url}/modern?part=race", charts=True)
        assert page.get_by_role("tab", selected=True).inner_text().strip() == TABS[3]
        assert ("part", "race") in bu.split_link(bu.share_link(page))[1]
        bu.open_tab(page, TABS[2])
        page.wait_for_url(lambda url: "part=streams" in url, timeout=30_000)
        assert ("part", "streams") in bu.split_link(bu.share_link(page))[1]
        bu.open_tab(page, TABS[0])
        page.wait_for_url(lambda url: "part=" not in url, timeout=30_000)
        assert ("part", "rescue") in bu.split_link(bu.share_link(page))[1]
    finally:
        ctx.close()
