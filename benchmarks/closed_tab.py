"""Closed tabs mid-training: how long the next student waits, against the same kind of run alone.

Two students start heavy Training runs (every slot of a 2-CPU server busy) and close their tabs after 1.5 s;
a third opens another heavy run. Run: python benchmarks/closed_tab.py (numbers: docs/classroom.md).
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playwright.sync_api import sync_playwright
from tests import browser_util as bu
from tests.conftest import serve

HEAVY = "training?init=zeros&init=normal&init=xavier_uniform&init=he_normal&depth={d}&width=128&steps=3000&batch=256"


def timed(browser, url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    p = ctx.new_page()
    t = time.perf_counter()
    bu.open_page(p, url, charts=True)
    dt = time.perf_counter() - t
    ctx.close()
    return dt


LOG = Path("/tmp/initlab-closed-tab-server.log")

with serve(LOG) as url, sync_playwright() as pw:
    b = pw.chromium.launch(executable_path=bu.CHROMIUM, args=bu.CHROMIUM_ARGS)
    timed(b, f"{url}/training")  # warm-up: imports
    alone = timed(b, f"{url}/{HEAVY.format(d=8)}")
    print(f"one heavy run alone: {alone:.1f} s")
    # two students start heavy runs (both slots) and close their tabs after 1 s
    ctxs = []
    for d in (9, 10):
        c = b.new_context()
        p = c.new_page()
        p.goto(f"{url}/{HEAVY.format(d=d)}")
        ctxs.append(c)
    time.sleep(1.5)
    for c in ctxs:
        c.close()
    t_closed = time.perf_counter()
    nxt = timed(b, f"{url}/{HEAVY.format(d=11)}")
    print(f"next student, new heavy run, after two tabs closed mid-run: {nxt:.1f} s (alone {alone:.1f} s)")
    again = [timed(b, f"{url}/{HEAVY.format(d=d)}") for d in (9, 10)]
    print(
        f"reopening the closed tabs' links afterwards: {again[0]:.1f} s, {again[1]:.1f} s (cached if ~ page load)"
    )
    b.close()
