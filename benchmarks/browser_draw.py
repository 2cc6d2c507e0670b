"""How long a cached lesson takes to finish drawing in headless Chromium: this checkout against another git ref.

Both apps are served side by side, every lesson is computed once (so the server only replays its cache), then
each lesson is opened in rounds, alternating the two apps, three ways:
- menu: the app is open in the tab (on Home) and the student picks the lesson in the menu (no page load);
- reload: the lesson's address is loaded again in a browser that has opened the app before (scripts cached);
- fresh: a new browser context (nothing cached) loads the lesson's address.
The floor: a bare Streamlit app (this repository's .streamlit config) with one page of one three-point Plotly
chart, measured the same three ways in the same run: what Streamlit and Plotly alone cost on this machine.
A lesson has finished drawing when its script has run to the end, nothing of the page before is left, and
every chart on the page has its SVG (or WebGL canvas). Prints medians (with quartiles from 4 rounds) and the
before/after ratio; numbers go to benchmarks/RESULTS.md by hand.

    python benchmarks/browser_draw.py                  # before = main, 5 rounds
    python benchmarks/browser_draw.py --before HEAD~3 --rounds 7
    python benchmarks/browser_draw.py --ways menu --rounds 12   # one way only: more rounds in the same time
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_util import CHROMIUM, CHROMIUM_ARGS, wait_idle  # noqa: E402
from tests.conftest import serve  # noqa: E402
from ui import nav  # noqa: E402

# Every chart element has drawn: Plotly's SVG is in it (a WebGL trace draws into a canvas inside it too).
DRAWN = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning'
        || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    if (document.querySelector('[data-stale="true"]')) return false;
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return charts.length > 0 && charts.every(c => c.querySelector('.js-plotly-plot .main-svg'));
}"""
KINDS = ("menu", "reload", "fresh")
COUNT = """() => [document.querySelectorAll('[data-testid="stPlotlyChart"]').length,
                document.querySelectorAll('.js-plotly-plot path, .js-plotly-plot text').length]"""


def spread(xs: list[float]) -> str:
    """The median, and the quartiles when there are enough rounds: '0.91 (0.82–1.16)'."""
    if len(xs) < 4:
        return f"{statistics.median(xs):.2f}"
    q1, _q2, q3 = statistics.quantiles(xs, n=4)
    return f"{statistics.median(xs):.2f} ({q1:.2f}–{q3:.2f})"


def checkout(ref: str, dest: Path) -> Path:
    """The tree of `ref` unpacked into dest (git archive: no worktree, nothing of this checkout touched)."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def drawn_after(page, t0: float) -> float:
    """Seconds from t0 to the moment the page was drawn and stayed so (a rerun may follow a finished run)."""
    while True:
        page.wait_for_function(DRAWN, timeout=120_000, polling="raf")
        t, seen = time.perf_counter() - t0, page.evaluate(COUNT)
        page.wait_for_timeout(300)
        if page.evaluate(DRAWN) and page.evaluate(COUNT) == seen:
            return t


def draw(page, url: str) -> float:
    """Seconds from navigation to the last chart drawn."""
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    return drawn_after(page, t0)


FLOOR_APP = """import plotly.graph_objects as go
import streamlit as st

st.set_page_config(layout="wide")


def home():
    st.title("Home")


def chart():
    st.title("Chart")
    st.plotly_chart(go.Figure(go.Scatter(y=[1, 3, 2])), key="chart")


pages = [st.Page(home, title="Home", default=True), st.Page(chart, title="Chart", url_path="chart")]
st.navigation(pages, position="top").run()
"""


def floor_app(dest: Path) -> Path:
    """The bare app of the floor rows, with this repository's Streamlit config (theme, toolbar)."""
    dest.mkdir()
    (dest / "app.py").write_text(FLOOR_APP)
    shutil.copytree(ROOT / ".streamlit", dest / ".streamlit")
    return dest


def menu(page, url: str, lesson: str, title: str | None = None) -> float:
    """Seconds from a menu click on Home (the app open in the tab) to the lesson drawn."""
    page.goto(url)
    wait_idle(page)
    title = title or str(nav.by_url_path(lesson).title)
    link = page.locator('[data-testid="stTopNavLink"]').filter(has_text=title).first
    t0 = time.perf_counter()
    link.click()
    page.wait_for_url(re.compile(rf"/{lesson}(\?|$)"), timeout=60_000)
    return drawn_after(page, t0)


def timed_ways(
    browser, page, url: str, path: str, title: str | None = None, ways: tuple[str, ...] = KINDS
) -> dict[str, float]:
    """Seconds to draw `path` of the app at `url` each of the `ways` (KINDS): from the menu and by a reload in
    `page` (the warm tab), and in a fresh browser context."""
    times = {}
    if "menu" in ways:
        times["menu"] = menu(page, url, path, title)
    if "reload" in ways:
        times["reload"] = draw(page, f"{url}/{path}")
    if "fresh" in ways:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            times["fresh"] = draw(ctx.new_page(), f"{url}/{path}")
        finally:
            ctx.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="main", help="git ref of the 'before' app (default: main)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pages", default=",".join(p.url_path for p in nav.LESSONS))
    ap.add_argument("--ways", default=",".join(KINDS), help="which of menu,reload,fresh to measure")
    args = ap.parse_args()
    ways = tuple(w for w in KINDS if w in args.ways.split(","))
    from playwright.sync_api import sync_playwright

    lessons = args.pages.split(",")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        before_root = checkout(args.before, Path(tmp) / "before")
        apps = {
            "before": stack.enter_context(serve(Path(tmp) / "before.log", root=before_root, timeout=90)),
            "after": stack.enter_context(serve(Path(tmp) / "after.log", timeout=90)),
        }
        floor = stack.enter_context(serve(Path(tmp) / "floor.log", root=floor_app(Path(tmp) / "floor")))
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        warm = {name: browser.new_context(viewport={"width": 1400, "height": 1000}) for name in apps}
        pages = {name: ctx.new_page() for name, ctx in warm.items()}
        sizes = {}
        for name, url in apps.items():  # compute every lesson once: later visits replay the server's cache
            for lesson in lessons:
                draw(pages[name], f"{url}/{lesson}")
                sizes[name, lesson] = pages[name].evaluate(COUNT)
        draw(pages["after"], f"{floor}/chart")  # the floor's scripts in the warm browser's cache too
        times: dict[tuple[str, ...], list[float]] = {}
        for k in range(args.rounds):
            print(f"round {k + 1} of {args.rounds}", file=sys.stderr, flush=True)
            for lesson in lessons:
                for name, url in apps.items():
                    for kind, t in timed_ways(browser, pages[name], url, lesson, ways=ways).items():
                        times.setdefault((name, lesson, kind), []).append(t)
            for kind, t in timed_ways(browser, pages["after"], floor, "chart", "Chart", ways).items():
                times.setdefault(("floor", kind), []).append(t)
        browser.close()

    print(f"Cached lesson drawn in headless Chromium (1400x1000), median of {args.rounds} rounds, seconds;")
    print(f"before = {args.before}, after = this checkout; charts / SVG paths+texts on the page.")
    print("In brackets: the middle half of the rounds (quartiles), to read the noise by.\n")
    print("| lesson | browser | before | after | after/before | charts, elements before -> after |")
    print("|---|---|---|---|---|---|")
    for lesson in lessons:
        for kind in ways:
            b, a = times["before", lesson, kind], times["after", lesson, kind]
            ratio = statistics.median(a) / statistics.median(b)
            (cb, eb), (ca, ea) = sizes["before", lesson], sizes["after", lesson]
            print(
                f"| {lesson} | {kind} | {spread(b)} | {spread(a)} | {ratio:.2f} | {cb}, {eb} -> {ca}, {ea} |"
            )
    print("\nThe floor: a bare Streamlit app, one page with one three-point Plotly chart, same run.\n")
    print("| floor | " + " | ".join(ways) + " |")
    print("|---|" + "---|" * len(ways))
    print("| seconds | " + " | ".join(spread(times["floor", k]) for k in ways) + " |")


if __name__ == "__main__":
    main()
