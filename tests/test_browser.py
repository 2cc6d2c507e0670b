"""End to end in headless Chromium: every page in the navigation opens, renders, and round-trips its share link.

Generic over ui.nav.PAGES, so every landed page gets these checks; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlencode

import pytest

from tests import browser_util as bu
from ui import nav, presets

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = nav.PAGES
README_SHOT = "docs/screenshots"


def _url(app_url: str, spec: nav.PageSpec, query: dict | None = None) -> str:
    base = f"{app_url}/{spec.url_path}" if spec.url_path else f"{app_url}/"
    return f"{base}?{urlencode(query, doseq=True)}" if query else base


def test_first_visit_has_one_navigation(app_url, context):
    """The first page load after the server start shows st.navigation's menu only, never the pages/ menu."""
    context.add_init_script(bu.WATCH_SIDEBAR_NAV)
    page = context.new_page()
    bu.open_page(page, _url(app_url, nav.HOME))
    assert bu.nav_count(page) == 1
    assert not bu.saw_sidebar_nav(page), "the automatic pages/ sidebar menu appeared"
    links = page.locator('[data-testid="stTopNavLink"]')
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert [h.rstrip("/").removeprefix(app_url).lstrip("/") for h in hrefs] == [p.url_path for p in PAGES]


@pytest.mark.parametrize("spec", nav.LESSONS, ids=[p.url_path for p in nav.LESSONS])
def test_first_visit_to_a_lesson_runs_the_app(fresh_app_url, context, spec):
    """A link straight to a lesson, first thing after a server start, still goes through app.py.

    Until st.navigation has run once, Streamlit treats pages/ the legacy way and runs pages/depth.py
    alone for /depth: no menu, no wide layout (ui.nav.through_app reruns it through app.py). Renaming
    the files instead brings up a "Page not found" dialog over the page.
    """
    context.add_init_script(bu.WATCH_SIDEBAR_NAV)
    page = context.new_page()
    bu.open_page(page, _url(fresh_app_url, spec))
    assert bu.error_texts(page) == []
    assert page.locator('[data-testid="stTopNavLink"]').count() == len(PAGES)
    assert not bu.saw_sidebar_nav(page), "the automatic pages/ sidebar menu appeared"
    assert page.locator('[role="dialog"]').count() == 0, "a dialog (e.g. 'Page not found') covers the page"
    width = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').getBoundingClientRect().width"
    )
    assert width > 1000, f"app.py's wide layout did not apply ({width:.0f} px of 1400)"


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path or "home" for p in PAGES])
def test_page_renders(app_url, context, artifacts, spec):
    context.add_init_script(bu.WATCH_SIDEBAR_NAV)
    page = context.new_page()
    outside = []  # a school network may block other hosts, and the app promises to load nothing from them
    page.on(
        "request", lambda r: None if r.url.startswith((app_url, "data:", "blob:")) else outside.append(r.url)
    )
    bu.open_page(page, _url(app_url, spec), charts=spec.has_charts)
    assert bu.error_texts(page) == []
    assert outside == [], "the page fetched from another host"
    assert bu.nav_count(page) == 1, "exactly one navigation menu"
    assert not bu.saw_sidebar_nav(page), "the automatic pages/ sidebar menu appeared"
    if spec.has_charts:
        assert page.locator(".js-plotly-plot").count() >= 1
    name = spec.url_path or "home"
    bu.screenshot(page, artifacts / f"{name}.png")


def test_home_on_a_phone(app_url, browser, artifacts):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    try:
        page = ctx.new_page()
        bu.open_page(page, _url(app_url, nav.HOME))
        assert bu.error_texts(page) == []
        assert page.get_by_text("Why should weights start near zero").count() == 1
        bu.screenshot(page, artifacts / "home-phone.png")
    finally:
        ctx.close()


LESSONS_WITH_PRESETS = [p for p in PAGES if p is not nav.HOME and presets.for_page(p.url_path)]


@pytest.mark.parametrize("spec", LESSONS_WITH_PRESETS, ids=[p.url_path for p in LESSONS_WITH_PRESETS])
def test_share_link_round_trip(app_url, browser, artifacts, spec):
    """Open a preset; its share link, opened in a fresh context, lands on the same page with the same values."""
    preset = presets.for_page(spec.url_path)[0]
    ctx1 = browser.new_context(
        viewport={"width": 1400, "height": 1000}, permissions=["clipboard-read", "clipboard-write"]
    )
    ctx2 = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        p1 = ctx1.new_page()
        bu.open_page(p1, _url(app_url, spec, preset.query_params()), charts=spec.has_charts)
        link = bu.share_link(p1)
        if link is None:
            pytest.skip(f"{spec.url_path} shows no share link yet")
        assert bu.copy_share_link(p1) == link  # one click copies the whole link
        path1, pairs1 = bu.split_link(link)
        assert path1.endswith(f"/{spec.url_path}")
        for key, value in preset.params.items():  # the preset's values are in the link, explicitly
            want = list(value) if isinstance(value, tuple) else [value]
            assert [v for k, v in pairs1 if k == key] == want, key
        p2 = ctx2.new_page()
        bu.open_page(p2, link, charts=spec.has_charts)
        assert bu.error_texts(p2) == []
        assert p2.url.split("?")[0].rstrip("/").endswith(f"/{spec.url_path}")
        path2, pairs2 = bu.split_link(bu.share_link(p2))
        assert (path2, pairs2) == (path1, pairs1)
        bu.screenshot(p2, artifacts / f"{spec.url_path}-shared.png")
    finally:
        ctx1.close()
        ctx2.close()


def test_readme_screenshot(artifacts):
    """Copy a lesson screenshot to docs/screenshots/ for the README (after the page tests made them)."""
    from tests.conftest import ROOT

    for name in ("depth", "training", "symmetry", "phase"):
        shot = artifacts / f"{name}.png"
        if shot.is_file():
            dest = ROOT / README_SHOT
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, dest / "lesson.png")
            return
    pytest.skip("no lesson screenshot yet")


HOSTILE = (
    "depth=99&sigma=abc&init=zeros&init=bogus&act=%3Cb%3Erelu%3C%2Fb%3E"
    "&foo=%24x%5E2%24+%3Ared%5Balert%5D+%5Blink%5D(http%3A%2F%2Fexample.com)+!%5Bi%5D(http%3A%2F%2Fexample.com%2Fi.png)"
    "&%3Cimg+src%3Dx+onerror%3Dalert(1)%3E=1&" + "z" * 2000 + "=" + "y" * 20000
)


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path or "home" for p in PAGES])
def test_hostile_link_opens_the_page_with_a_plain_notice(app_url, context, artifacts, spec):
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    bu.open_page(page, f"{_url(app_url, spec)}?{HOSTILE}", charts=spec.has_charts)
    assert bu.error_texts(page) == []
    notice = page.locator('[data-testid="stAlert"]', has_text="could not be used")
    assert notice.count() == 1
    text = notice.inner_text()
    assert "<img src=x onerror=alert(1)> is ignored" in text  # shown as text, not as an element
    assert notice.locator("img, a, script, b").count() == 0 and dialogs == []
    assert "y" * 100 not in text
