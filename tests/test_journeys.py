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
    link = page.locator('[data-testid="stTopNavLink"]').filter(has_text=str(spec.title)).first
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
    # what is on screen now: an element left over from the previous page while it redraws is marked stale
    main = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]')]
            .filter(e => !e.closest('[data-stale="true"]')).map(e => e.innerText).join('\\n')"""
    )
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
        fresh_seen = state_of(again, dst)
        assert fresh_seen == seen, ("the address does not reproduce the page", fresh_seen, seen)
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


PHASE_QUERY = "act=relu&data=circles&width=16&cellsteps=50&seed=1"


@pytest.mark.parametrize("dest", ["training", "depth"])
def test_phase_cross_links_open_the_same_network(app_url, context, dest):
    """'Train it on the Training page' / 'See its signal on the Depth page' keep every setting of the cell."""
    page = context.new_page()
    bu.open_page(page, f"{app_url}/phase?{PHASE_QUERY}", charts=True)
    cell = page.locator(
        '[data-testid="stMarkdownContainer"]', has_text="hidden layers: loss"
    ).last.inner_text()
    final = re.search(r"at the start, ([\d.]+) at the end", cell)
    label = "Train it on the Training page" if dest == "training" else "See its signal on the Depth page"
    page.locator('[data-testid="stPageLink"] a', has_text=label).first.click()
    page.wait_for_url(re.compile(rf"/{dest}\?"), timeout=60_000)
    page.wait_for_timeout(500)
    seen = state_of(page, nav.by_url_path(dest))
    assert seen["errors"] == []
    query = dict(bu.split_link(seen["link"])[1])
    want = {
        "act": "relu",
        "data": "circles",
        "width": "16",
        "init": "lecun_normal",
        "seed": "1",
        "steps": "50",
    }
    assert {k: query.get(k) for k in want} == want
    assert "open=" not in page.url and "act=relu" in page.url and "data=circles" in page.url
    if dest == "training" and final:
        # the Training page trains exactly the cell's network: the same final loss
        metric = page.locator('[data-testid="stMetricValue"]').first.inner_text()
        assert float(metric) == pytest.approx(float(final.group(1)), abs=6e-3), (cell, metric)


def test_share_box_on_a_phone(app_url, browser):
    """The copy button shows without hover (a touch screen has none); the link never wraps inside a word."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        bu.open_page(page, f"{app_url}/depth", charts=True)
        box = page.locator(".st-key-initlab_share")
        box.scroll_into_view_if_needed()
        button = box.locator(".initlab-link button").first
        assert button.evaluate("b => getComputedStyle(b).visibility") == "visible"
        assert float(button.evaluate("b => getComputedStyle(b).opacity")) == 1.0
        assert button.bounding_box()["width"] >= 24 and button.bounding_box()["height"] >= 24  # WCAG 2.5.8
        code = box.locator(".initlab-link code").first
        line = float(code.evaluate("c => parseFloat(getComputedStyle(c).lineHeight) || 20"))
        assert code.bounding_box()["height"] < 2 * line, "the link wraps"
        assert "depth=10" in box.inner_text()  # every setting is listed in words that wrap between settings
    finally:
        ctx.close()
