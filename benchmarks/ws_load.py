"""Load test without browsers: N sessions that speak Streamlit's websocket protocol from Python.

    python benchmarks/ws_load.py --sessions 10 30 --seconds 60 --json /tmp/ws.json
    python benchmarks/ws_load.py --validate    # once: the same links in headless Chromium and in this client

benchmarks/load_test.py drives N real Chromium tabs; on a 2-core machine the tabs themselves eat the CPU, so
its times measure the browsers. This driver opens every link the way Streamlit's frontend does, from one
Python process with asyncio, so 30 sessions cost the client almost nothing and the times are the server's.
Scenarios (one-link, mix, fill; opt-in big-link, cold-start), the server (benchmarks/_serve_counting.py on a
free loopback port, a fresh one per scenario), the links, the summaries, the table and the exit status are
load_test.py's, imported from it: only the sessions differ. The JSON adds, per scenario, script-finished
times by page, charts and script runs per view, ForwardMsgs and kB per view, and this client's CPU seconds.

One page view (one navigation of the browser test), as the frontend of streamlit 1.67 does it:
  1. GET the link (the HTML document), then, like the frontend's PINGING_SERVER step, /<page>/_stcore/health
     and /<page>/_stcore/host-config (404: the frontend tries the page's path as the base URL first), then
     /_stcore/health (which sets the `_streamlit_xsrf` cookie) and /_stcore/host-config;
  2. open ws://.../_stcore/stream with the subprotocols ["streamlit", <xsrf cookie value>] (the server selects
     the first, reads the second as the XSRF token and a third, absent here, as a session to resume), the
     cookie and a same-origin Origin header;
  3. send one BackMsg `rerun_script` (a ClientState): query_string (the link's query without "?"),
     page_name = the url_path of the st.navigation page ("" = home), page_script_hash "" (the server resolves
     the page from page_name), an empty widget_states, context_info (timezone, locale, URL, colour scheme),
     no cached_message_hashes;
  4. read ForwardMsgs until `script_finished` (FINISHED_EARLY_FOR_RERUN means an st.rerun follows: keep
     reading), rebuilding the page like the frontend: elements by delta path, cleared at each new_session;
     `ref_hash` messages are resolved from this connection's cache of cacheable messages. Then close.
Measured per view: time to the first h1 (title), to the first `plotly_chart` element (the title on pages
without charts, like Home), to script_finished; errors: `exception` elements, `alert`s of format ERROR,
page_not_found, compile errors, HTTP or websocket failures, no script_finished within --timeout. Not done:
the static JavaScript (a browser's first view loads 3-11 MB of it, cached afterwards) and drawing.

--validate opens links (default: Home and a Training preset; `presets`: Home and every preset) with this
client and in headless Chromium (Playwright, a dev dependency, records the browser's websocket frames) on one
server, and checks both sent the same BackMsgs, got the same elements and show the same number of charts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.proto.Alert_pb2 import Alert  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402  (a dependency of streamlit itself)

from benchmarks import load_test as lt  # noqa: E402
from benchmarks.load_test import Link, Visit  # noqa: E402
from ui import nav  # noqa: E402

XSRF_COOKIE = "_streamlit_xsrf"
DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}


# ------------------------------------------------------------------------------------------ the protocol


class PageRender:
    """The page one view draws, rebuilt from its ForwardMsgs the way the frontend keeps it."""

    def __init__(self) -> None:
        self.elements: dict[tuple[int, ...], str] = {}  # delta path -> element type, of the current run
        self.cache: dict[str, ForwardMsg] = {}  # hash -> cacheable message: what `ref_hash` refers to
        self.at: dict[str, float] = {}  # "title" / "chart" / "finished" -> seconds, first time seen
        self.errors: list[str] = []
        self.messages = self.bytes = self.runs = self.refs = 0

    @property
    def charts(self) -> int:
        return sum(kind == "plotly_chart" for kind in self.elements.values())

    def feed(self, data: bytes, t: float) -> bool:
        """Apply one websocket frame received t seconds into the view; True once the script has finished."""
        msg = ForwardMsg()
        msg.ParseFromString(data)
        self.messages += 1
        self.bytes += len(data)
        if msg.WhichOneof("type") == "ref_hash":
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                self.errors.append(f"ref_hash {msg.ref_hash} is not in this connection's cache")
                return False
            self.refs += 1
            ref, msg = msg, ForwardMsg()
            msg.CopyFrom(cached)
            msg.metadata.CopyFrom(ref.metadata)  # the reference carries this use's delta path
        elif msg.metadata.cacheable:
            self.cache[msg.hash] = msg
        kind = msg.WhichOneof("type")
        if kind == "new_session":  # every script run starts with one
            self.runs += 1
            self.elements = {}
        elif kind == "delta":
            self._delta(msg, t)
        elif kind == "page_not_found":
            self.errors.append(f"page not found: {msg.page_not_found.page_name!r}")
        elif (
            kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception"
        ):
            self.errors.append(
                f"compile error: {msg.session_event.script_compilation_exception.message[:300]}"
            )
        elif kind == "script_finished" and msg.script_finished in DONE:
            if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                self.errors.append("the script finished with a compile error")
            self.at.setdefault("finished", t)
            return True
        return False

    def _delta(self, msg: ForwardMsg, t: float) -> None:
        delta, path = msg.delta, tuple(msg.metadata.delta_path)
        kind = delta.WhichOneof("type")
        if kind not in ("new_element", "add_block"):
            return
        n = len(path)
        for old in [p for p in self.elements if len(p) > n and p[:n] == path]:
            del self.elements[old]  # what was inside the element or block this one replaces
        if kind == "add_block":
            self.elements[path] = "block"
            return
        el = delta.new_element
        etype = el.WhichOneof("type")
        self.elements[path] = etype
        if etype == "plotly_chart":
            self.at.setdefault("chart", t)
        elif etype == "heading" and el.heading.tag == "h1":
            self.at.setdefault("title", t)
        elif etype == "exception":
            self.errors.append(f"exception {el.exception.type}: {el.exception.message[:300]}")
        elif etype == "alert" and el.alert.format == Alert.ERROR:
            self.errors.append(f"error alert: {el.alert.body[:300]}")


def rerun_script(link: Link, url: str) -> BackMsg:
    """The BackMsg the frontend sends once the websocket is open: run the page the URL names."""
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = urlencode(list(link.params))
    state.page_name = link.page
    state.page_script_hash = ""
    state.widget_states.SetInParent()
    info = state.context_info
    info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
    info.url, info.is_embedded, info.color_scheme = url, False, "light"
    return msg


async def http_get(url: str) -> tuple[int, dict[str, str]]:
    """A plain HTTP/1.1 GET on a fresh connection: (status, cookies it sets); the body is read and dropped."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        path = parts.path or "/"
        path += f"?{parts.query}" if parts.query else ""
        head = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    lines = raw.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    cookies = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "set-cookie":
            key, _, val = value.strip().split(";")[0].partition("=")
            cookies[key] = val
    return int(lines[0].split()[1]), cookies


async def load_page(base: str, link: Link, render: PageRender, t0: float, sent: list | None = None) -> None:
    """Open `link` like a browser tab does (module docstring, steps 1-4), filling `render`."""
    url = link.url(base)
    status, _ = await http_get(url)
    if status != 200:
        render.errors.append(f"GET {link.url('')}: HTTP {status}")
    if link.page:  # the frontend first tries the page's path as the base URL (404 here), then the root
        await asyncio.gather(
            *(http_get(f"{base}/{link.page}/_stcore/{p}") for p in ("health", "host-config"))
        )
    (health, cookies), (config, _) = await asyncio.gather(
        http_get(f"{base}/_stcore/health"), http_get(f"{base}/_stcore/host-config")
    )
    if health != 200 or config != 200:
        render.errors.append(f"health {health}, host-config {config}")
    xsrf = cookies.get(XSRF_COOKIE)
    ws_url = "ws://" + urlsplit(base).netloc + "/_stcore/stream"
    async with connect(
        ws_url,
        subprotocols=["streamlit", xsrf or "PLACEHOLDER_AUTH_TOKEN"],
        origin=base,
        additional_headers={"Cookie": f"{XSRF_COOKIE}={xsrf}"} if xsrf else None,
        compression=None,  # server.enableWebsocketCompression is off by default
        max_size=None,  # the server bounds its messages (server.maxMessageSize)
        proxy=None,
        open_timeout=None,  # the caller's timeout covers the whole view
    ) as ws:
        msg = rerun_script(link, url)
        if sent is not None:
            sent.append(msg)
        await ws.send(msg.SerializeToString())
        async for data in ws:
            if render.feed(data, time.perf_counter() - t0):
                return
    render.errors.append("the server closed the websocket before script_finished")


@dataclass
class WsVisit(Visit):
    charts: int = 0  # plotly charts on the finished page
    runs: int = 0  # script runs the view took (2 when the page called st.rerun)
    messages: int = 0  # ForwardMsgs received
    kbytes: float = 0.0


async def open_view(base: str, link: Link, session: int, timeout_s: float) -> WsVisit:
    """One page view; a failure or timeout is a measured error, never a crash."""
    t0 = time.perf_counter()
    render = PageRender()
    v = WsVisit(session, link.url(""), None, None)
    try:
        async with asyncio.timeout(timeout_s):
            await load_page(base, link, render, t0)
    except Exception as err:  # noqa: BLE001
        v.errors.append(f"{type(err).__name__}: {str(err)[:300] or 'no script_finished in time'}")
    has_charts = next((p.has_charts for p in nav.PAGES if p.url_path == link.page), True)
    v.time_to_title = render.at.get("title")
    v.time_to_chart = render.at.get("chart" if has_charts else "title")
    v.time_to_idle = render.at.get("finished")
    v.errors = render.errors + v.errors
    if v.time_to_idle is not None and v.time_to_chart is None and not v.errors:
        v.errors.append("the script finished without drawing a chart")
    v.charts, v.runs, v.messages, v.kbytes = render.charts, render.runs, render.messages, render.bytes / 1024
    return v


class Driver:
    """Runs the sessions of one scenario (load_test's driver signature); keeps what its last call saw."""

    def __init__(self) -> None:
        self.visits: list[WsVisit] = []
        self.client_cpu = 0.0

    async def __call__(self, base: str, n_sessions: int, plan, seconds: float, timeout_s: float) -> list:
        cpu = time.process_time()
        self.visits = await lt.run_sessions(
            n_sessions, plan, seconds, lambda i, link: open_view(base, link, i, timeout_s)
        )
        self.client_cpu = time.process_time() - cpu
        return self.visits

    def annotate(self, result: dict) -> None:
        """Add what only this driver sees to a scenario's summary."""
        vs = self.visits
        by_page: dict[str, list[float]] = {}
        for v in vs:
            if v.time_to_idle is not None:
                by_page.setdefault(v.link.split("?")[0].strip("/") or "home", []).append(v.time_to_idle)
        result.update(
            driver="websocket",
            idle_p50_by_page={k: lt.pct(t, 50) for k, t in sorted(by_page.items())},
            charts_per_view={k: n for k, n in sorted(Counter(v.charts for v in vs).items())},
            script_runs_per_view={k: n for k, n in sorted(Counter(v.runs for v in vs).items())},
            forward_msgs_per_view_p50=lt.pct([v.messages for v in vs], 50),
            kb_per_view_p50=lt.pct([round(v.kbytes, 1) for v in vs], 50),
            client_cpu_seconds=round(self.client_cpu, 2),
        )


async def drive(base: str, n_sessions: int, plan, seconds: float, timeout_s: float) -> list:
    """load_test.drive's contract with websocket sessions instead of browser tabs."""
    return await Driver()(base, n_sessions, plan, seconds, timeout_s)


# ------------------------------------------------------------------------------------------ validation


async def browser_view(base: str, link: Link, timeout_s: float) -> dict:
    """Open `link` in headless Chromium; record its websocket frames and count the charts it shows."""
    from playwright.async_api import async_playwright

    from tests.browser_util import CHROMIUM, CHROMIUM_ARGS

    sent: list[BackMsg] = []
    render = PageRender()
    t0 = time.perf_counter()

    def on_socket(ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framesent", lambda data: sent.append(_backmsg(data)))
            ws.on("framereceived", lambda data: render.feed(data, time.perf_counter() - t0))

    requests: list = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("websocket", on_socket)
        page.on("requestfinished", lambda request: requests.append(request))
        t0 = time.perf_counter()
        await page.goto(link.url(base), wait_until="commit")
        async with asyncio.timeout(timeout_s):
            while "finished" not in render.at:  # (the app reads as idle before its first run starts)
                await asyncio.sleep(0.05)
        await page.wait_for_function(lt.IDLE_JS, timeout=timeout_s * 1000, polling=100)
        # Elements whose code is still loading (Plotly's 4.7 MB chunk on a first visit) show as skeletons.
        loaded = """() => !document.querySelector('[data-testid="stSkeleton"]')"""
        await page.wait_for_function(loaded, timeout=timeout_s * 1000, polling=100)
        containers = page.locator('[data-testid="stPlotlyChart"]')
        n = await containers.count()
        for i in range(n):  # charts below the fold draw once scrolled into view
            await containers.nth(i).scroll_into_view_if_needed()
        drawn = f"() => document.querySelectorAll('{lt.CHART}').length >= {n}"
        with contextlib.suppress(Exception):  # a shortfall shows in the counts below
            await page.wait_for_function(drawn, timeout=30_000, polling=200)
        out = {
            "dom_chart_containers": n,
            "dom_plotly_drawn": await page.locator(lt.CHART).count(),
            "dom_errors": await page.locator(lt.ERRORS).count(),
            "time_to_finished": round(render.at["finished"], 2),
        }
        static = [r for r in requests if "/static/" in r.url]
        sizes = [(await r.sizes())["responseBodySize"] for r in static]
        out["static_files"], out["static_mb"] = len(static), round(sum(sizes) / 2**20, 2)
        out["other_http"] = sorted({urlsplit(r.url).path for r in requests if r not in static})
        await browser.close()
    out.update(_seen(render, sent))
    return out


def _backmsg(data) -> BackMsg:
    msg = BackMsg()
    msg.ParseFromString(data if isinstance(data, bytes) else data.encode("latin-1"))
    return msg


def _seen(render: PageRender, sent: list[BackMsg]) -> dict:
    """What a view's frames show: charts, element types, errors, and the BackMsgs sent (context left out)."""
    back = []
    for m in sent:
        d = {"type": m.WhichOneof("type")}
        if d["type"] == "rerun_script":
            s = m.rerun_script
            d.update(
                query_string=s.query_string,
                page_name=s.page_name,
                page_script_hash=s.page_script_hash,
                widgets=len(s.widget_states.widgets),
                cached_hashes=len(s.cached_message_hashes),
                fragment_id=s.fragment_id,
                is_auto_rerun=s.is_auto_rerun,
                context_info=sorted(f.name for f, _ in s.context_info.ListFields()),
            )
        back.append(d)
    return {
        "charts": render.charts,
        "element_types": dict(sorted(Counter(render.elements.values()).items())),
        "script_runs": render.runs,
        "forward_msgs": render.messages,
        "ref_hash_msgs": render.refs,
        "errors": render.errors,
        "back_msgs": back,
    }


async def client_view(base: str, link: Link, timeout_s: float) -> dict:
    """Open `link` with this client, keeping the BackMsgs it sends (validation)."""
    render, sent = PageRender(), []
    async with asyncio.timeout(timeout_s):
        await load_page(base, link, render, time.perf_counter(), sent)
    return _seen(render, sent)


def validate(links: list[Link], timeout_s: float) -> int:
    """Each link through this client and through Chromium on one fresh server: the same page, or exit 1."""
    bad = 0
    with lt.Server(Path(tempfile.mkdtemp(prefix="initlab-ws-validate-")), "validate") as server:
        for link in links:
            client = asyncio.run(client_view(server.url, link, timeout_s))
            browser = asyncio.run(browser_view(server.url, link, timeout_s))
            checks = {
                "charts: client == browser frames == DOM charts == drawn": client["charts"]
                == browser["charts"]
                == browser["dom_chart_containers"]
                == browser["dom_plotly_drawn"],
                "element types": client["element_types"] == browser["element_types"],
                "BackMsgs sent (context_info fields aside)": [
                    {k: v for k, v in m.items() if k != "context_info"} for m in client["back_msgs"]
                ]
                == [{k: v for k, v in m.items() if k != "context_info"} for m in browser["back_msgs"]],
                "no errors": not client["errors"] and not browser["errors"] and not browser["dom_errors"],
            }
            ok = all(checks.values())
            bad += not ok
            print(f"{'OK  ' if ok else 'DIFF'} {link.url('')}")
            print(json.dumps({"checks": checks, "client": client, "browser": browser}, indent=1))
    return 1 if bad else 0


def _parse_link(url: str) -> Link:
    parts = urlsplit(url)
    return Link(parts.path.strip("/"), tuple(parse_qsl(parts.query, keep_blank_values=True)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    lt.add_arguments(ap)
    ap.add_argument(
        "--validate",
        nargs="*",
        metavar="LINK",
        help="instead of the load test: open these links (default: Home and a Training preset; 'presets': "
        "Home and every preset) with this client and in headless Chromium, and compare what they show",
    )
    args = ap.parse_args(argv)
    if args.validate is not None:
        if args.validate == ["presets"]:
            links = lt.preset_links()
        elif args.validate:
            links = [_parse_link(u) for u in args.validate]
        else:  # Home and the first Training preset (the page with the most charts)
            links = [Link(""), next(x for x in lt.preset_links() if x.page == "training")]
        return validate(links, args.timeout)
    driver = Driver()
    results, log_dir = lt.run_scenarios(args, driver=driver, annotate=driver.annotate)
    return lt.report(results, args, log_dir, driver="websocket (benchmarks/ws_load.py)")


if __name__ == "__main__":
    sys.exit(main())
