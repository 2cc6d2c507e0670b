"""Playwright helpers for the browser tests: open a page, wait for the script and charts, read the share link.

Page helpers can reuse them in their own browser checks (see tests/test_browser.py for the generic ones).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlsplit

# Debian's Chromium (never a downloaded browser), with the flags this closed network needs.
CHROMIUM = os.environ.get("INITLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ERRORS = '[data-testid="stException"]'
NAVS = '[data-testid="stTopNav"], [data-testid="stSidebarNav"]'
SHARE_CODE = ".initlab-link code"  # ui.share.copy_block


def wait_idle(page, timeout_ms: float = 180_000) -> None:
    """Wait until the script has run to the end (connected, not running)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                && app.getAttribute('data-test-connection-state') === 'CONNECTED';
        }""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(300)  # let the last deltas paint


def open_tab(page, name: str):
    """Click the tab called `name` (a lazy tab reruns the page to draw it) and wait until its charts have drawn;
    returns the tab. The mouse leaves the page's help icons, so no tooltip is left open for axe-core."""
    tab = page.get_by_role("tab", name=name, exact=True)
    tab.click()
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)  # the rerun starts
    wait_idle(page)
    charts = page.locator('[data-testid="stPlotlyChart"]:visible')  # a closed tab keeps old charts, hidden
    for k in range(charts.count()):  # charts below the fold draw when scrolled to
        charts.nth(k).scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    return tab


def open_page(page, url: str, charts: bool = False, timeout_ms: float = 180_000) -> None:
    """Go to url, wait for the run to finish and, if asked, for at least one Plotly chart to render."""
    page.goto(url, wait_until="domcontentloaded")
    wait_idle(page, timeout_ms)
    if charts:
        # Charts below the fold may render only once scrolled into view: bring the first one up.
        first = page.locator('[data-testid="stPlotlyChart"]').first
        first.wait_for(state="attached", timeout=timeout_ms)
        first.scroll_into_view_if_needed(timeout=timeout_ms)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=timeout_ms)
        wait_idle(page, timeout_ms)


def error_texts(page) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all(ERRORS)]


def nav_count(page) -> int:
    return len(page.query_selector_all(NAVS))


def share_link(page) -> str | None:
    """The link shown in the page's "Share this experiment" box, if it has one."""
    for el in page.query_selector_all(SHARE_CODE):
        text = el.inner_text().strip()
        if "?" in text and text.startswith("http"):
            return text
    return None


def split_link(link: str) -> tuple[str, list[tuple[str, str]]]:
    """(path, ordered query pairs) of a link."""
    parts = urlsplit(link)
    return parts.path.rstrip("/"), parse_qsl(parts.query, keep_blank_values=True)


# Installed with context.add_init_script: records whether a navigation menu other than st.navigation's top
# menu (the automatic pages/ sidebar menu) appears at any moment, even briefly, while the page loads.
WATCH_SIDEBAR_NAV = """
window.__initlabSawSidebarNav = false;
new MutationObserver(() => {
    if (document.querySelector('[data-testid="stSidebarNav"]')) { window.__initlabSawSidebarNav = true; }
}).observe(document, {childList: true, subtree: true});
"""


def saw_sidebar_nav(page) -> bool:
    return bool(page.evaluate("() => window.__initlabSawSidebarNav === true"))


def screenshot(page, path, max_height: int = 4000) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its own container, so grow the viewport first."""
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]') || document.body;
            return Math.max(main.scrollHeight, document.body.scrollHeight);
        }"""
    )
    size = page.viewport_size or {"width": 1400, "height": 1000}
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), max_height)})
    page.wait_for_timeout(500)  # Plotly re-lays out on resize
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def copy_share_link(page) -> str:
    """Click the copy button of the share box and return the clipboard (needs clipboard permissions)."""
    button = page.locator(".initlab-link button").last
    button.scroll_into_view_if_needed()
    button.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.initlab-link [role=status]')].some(s => s.textContent)"
    )
    return page.evaluate("() => navigator.clipboard.readText()")
