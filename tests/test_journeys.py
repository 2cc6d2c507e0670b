"""Classroom journeys in headless Chromium: change a control, move to another lesson by the top menu.

Every ordered pair of pages (home and the four lessons): the destination opens without an error, with its
charts, with no Python repr in the address, and the address, opened in a fresh browser, shows the same page.
"""

from __future__ import annotations

import itertools
import re

import pytest

from tests import browser_util as bu
from ui import nav

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = nav.PAGES
PAIRS = [(a, b) for a, b in itertools.permutations(PAGES, 2)]
ALERT_ERRORS = '[data-testid="stAlertContentError"]'


def _url(app_url: str, spec: nav.PageSpec) -> str:
    return f"{app_url}/{spec.url_path}" if spec.url_path else f"{app_url}/"


def change_a_control(page, spec: nav.PageSpec) -> None:
    """One step down on the page's width slider (every lesson has one); home has no control."""
    if spec is nav.HOME:
        return
    thumb = page.locator(".st-key-width input").first
    before = page.url
    thumb.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(500)
    bu.wait_idle(page)
    assert page.url != before, f"{spec.url_path}: moving the width slider did not change the address"


def menu_to(page, spec: nav.PageSpec) -> None:
    link = page.locator('[data-testid="stTopNavLink"]').filter(has_text=spec.title).first
    link.click()
    page.wait_for_url(re.compile(rf"/{spec.url_path}(\?|$)"), timeout=60_000)
    page.wait_for_timeout(500)
    bu.wait_idle(page)


def state_of(page, spec: nav.PageSpec) -> dict:
    """What a student sees: errors, chart count, every metric, the share link, the page's numbers."""
    if spec.has_charts:
        page.locator(
            '[data-testid="stPlotlyChart"], [data-testid="stException"], [data-testid="stAlertContentError"]'
        ).first.wait_for(state="attached", timeout=90_000)
        bu.wait_idle(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    return {
        "errors": bu.error_texts(page) + [e.inner_text() for e in page.query_selector_all(ALERT_ERRORS)],
        "charts": page.locator('[data-testid="stPlotlyChart"]').count(),
        "metrics": [m.inner_text() for m in page.query_selector_all('[data-testid="stMetricValue"]')],
        "link": bu.share_link(page),
        "numbers": re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", main.split("Share this experiment")[0]),
    }


@pytest.mark.parametrize(
    "src,dst", PAIRS, ids=[f"{a.url_path or 'home'}-{b.url_path or 'home'}" for a, b in PAIRS]
)
def test_menu_move_after_a_control_change(app_url, browser, src, dst):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        bu.open_page(page, _url(app_url, src), charts=src.has_charts)
        change_a_control(page, src)
        menu_to(page, dst)
        seen = state_of(page, dst)
        assert seen["errors"] == [], f"{src.url_path} -> {dst.url_path}: {seen['errors']}"
        if dst.has_charts:
            assert seen["charts"] >= 1
        address = page.url
        assert not re.search(r"%5B|%27|\[|'", address), f"a Python repr in the address: {address}"
        again = fresh.new_page()
        bu.open_page(again, address, charts=dst.has_charts)
        assert state_of(again, dst) == seen, "the address does not reproduce the page"
    finally:
        ctx.close()
        fresh.close()


def test_a_lesson_reopens_as_it_was_left(app_url, context):
    """The rule for menu moves: a lesson opens as this session last left it (its defaults the first time)."""
    depth, training = nav.by_url_path("depth"), nav.by_url_path("training")
    page = context.new_page()
    bu.open_page(page, _url(app_url, depth), charts=True)
    change_a_control(page, depth)
    left = state_of(page, depth)
    menu_to(page, training)
    trained = state_of(page, training)
    assert "width=" not in page.url, "Depth's width leaked into Training"
    menu_to(page, depth)
    assert state_of(page, depth) == left
    menu_to(page, training)
    assert state_of(page, training) == trained
