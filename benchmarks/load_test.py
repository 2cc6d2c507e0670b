"""Load test: N real browser sessions (headless Chromium via Playwright) against the app on 127.0.0.1.

    python benchmarks/load_test.py --sessions 10 30 --seconds 60 --json /tmp/load.json

Scenarios (each on a freshly started server, so the cache starts empty; default: one-link, mix, fill):
  one-link  every session opens the same new Training share link at the same moment: the shared cache must
            train it once (trainings run == distinct configs == 1).
  mix       for --seconds, every session keeps opening links from a mix of pages and configs (home, the
            presets of every lesson, and per-session "edited" links that miss the cache), like a class at work.
  fill      fills the experiment cache with --fill-entries (64 = ui.runs.MAX_ENTRIES) distinct Training
            configs, then runs the mix for --seconds: peak memory with a full cache.
  big-link  (opt-in) every session opens the same new Depth link at 50 layers x 256 units: the largest
            record one link can ask for, copied out of the cache once per session.
  cold-start (opt-in) a plain `streamlit run app.py` (no counters, nothing imported yet), and every session
            opens a different link (Home, then the presets) at the same moment: the first views after a
            start or a wake-up.
The sessions are browser tabs here; benchmarks/ws_load.py runs the same scenarios with websocket clients.
Measured per navigation: time to the page title (frontend loaded, script started), time to first chart
(navigation start -> a `.js-plotly-plot` visible, or the home title), time until the script finished, errors
(stException, error alerts, failed navigations); per scenario: peak resident memory and CPU seconds of the
server's process tree, and the trainings it actually ran (from benchmarks/_serve_counting.py). Exits non-zero
on any error, a repeated computation in one-link, or peak RSS above --max-rss-mb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_util import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from ui import presets  # noqa: E402  (plain data: no streamlit import)

HOME_TITLE = "h1:has-text('Why should weights start near zero')"
CHART = ".js-plotly-plot"
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') === 'notRunning'
        && app.getAttribute('data-test-connection-state') === 'CONNECTED';
}"""
PAGE_SIZE = 4096
SERVER_CPUS: set[int] | None = None  # --pin: the server on these CPUs, the browsers on the others


# ------------------------------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE_SIZE
    except OSError:
        return 0


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the process and its descendants (live ones and reaped children)."""
    kids = _children()
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / tick  # utime, stime, cutime, cstime
        except OSError:
            pass
        todo += kids.get(p, [])
    return total


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages (numpy's libraries in every pool worker) split between sharers."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> tuple[int, int, int]:
    """(RSS of the process, summed RSS and summed PSS of it and all its descendants) in bytes, from /proc."""
    kids = _children()
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        rss += rss_bytes(p)
        pss += pss_bytes(p)
        todo += kids.get(p, [])
    return rss_bytes(pid), rss, pss


class Server:
    """`streamlit run app.py` (with training counters) on a free loopback port; samples its memory.

    counting=False: plain `streamlit run app.py`, exactly as deployed (no counts). The counting wrapper
    imports core (numpy, pandas) before the first session, so only a plain server starts cold.
    """

    def __init__(self, log_dir: Path, name: str, counting: bool = True) -> None:
        self.counting = counting
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.count_file = log_dir / f"{name}-counts.json"
        self.log_path = log_dir / f"{name}-server.log"
        self.peak_main = self.peak_tree = self.peak_pss = 0
        self._stop = threading.Event()

    def __enter__(self) -> Server:
        env = {**os.environ, "INITLAB_COUNT_FILE": str(self.count_file)}
        counting = [str(ROOT / "benchmarks" / "_serve_counting.py")]
        plain = ["-m", "streamlit", "run", str(ROOT / "app.py")]
        cmd = [
            sys.executable,
            *(counting if self.counting else plain),
            "--server.headless=true",
            f"--server.port={self.port}",
            "--server.address=127.0.0.1",
            "--server.fileWatcherType=none",
            "--browser.gatherUsageStats=false",
        ]
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        pin = (lambda: os.sched_setaffinity(0, SERVER_CPUS)) if SERVER_CPUS else None
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=pin
        )
        deadline = time.monotonic() + 120
        while not self._healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {self.log_path}")
            time.sleep(0.3)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        self.cpu_start = tree_cpu_seconds(self.proc.pid)
        return self

    def cpu_seconds(self) -> float:
        """Server CPU time since start-up (training, script runs, serialization), all cores together."""
        return tree_cpu_seconds(self.proc.pid) - self.cpu_start

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def _sample(self) -> None:
        while not self._stop.is_set():
            main, tree, pss = tree_rss(self.proc.pid)
            self.peak_main, self.peak_tree = max(self.peak_main, main), max(self.peak_tree, tree)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(0.2)

    def counts(self) -> dict:
        try:
            return json.loads(self.count_file.read_text())
        except (OSError, ValueError):
            return {}

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


# ------------------------------------------------------------------------------------------ the links


@dataclass(frozen=True)
class Link:
    page: str  # url_path, "" = home
    params: tuple[tuple[str, str], ...] = ()

    def url(self, base: str) -> str:
        query = urlencode(list(self.params))
        return f"{base}/{self.page}" + (f"?{query}" if query else "")

    @property
    def name(self) -> str:
        return self.page or "home"


def preset_links() -> list[Link]:
    out = [Link("")]
    for p in presets.PRESETS:
        pairs = []
        for k, v in p.params.items():
            pairs += [(k, x) for x in v] if isinstance(v, tuple) else [(k, v)]
        out.append(Link(p.page, tuple(pairs)))
    return out


def edited_links(session: int, round_: int) -> list[Link]:
    """Links a student makes by moving a slider: seeds no preset uses, so they miss the shared cache."""
    seed = str(1000 + 97 * session + round_)
    return [
        Link("training", (("init", "zeros"), ("init", "he_normal"), ("act", "relu"), ("seed", seed))),
        Link("depth", (("init", "normal"), ("sigma", "1"), ("depth", "20"), ("seed", seed))),
        Link("symmetry", (("init", "constant"), ("c", "0.5"), ("seed", seed))),
    ]


def one_link(seed: int) -> Link:
    """The teacher's link: the Training page comparing four starts, a seed nobody has run yet."""
    inits = ("zeros", "normal", "xavier_uniform", "he_normal")
    return Link("training", (*(("init", s) for s in inits), ("data", "spiral"), ("seed", str(seed))))


def fill_links(n: int) -> list[Link]:
    """n distinct small Training configs (two schemes, 50-150 steps): entries for the experiment cache."""
    out = []
    for i in range(n):
        params = (
            ("init", "xavier_uniform"),
            ("init", "he_normal"),
            ("depth", str(1 + i % 4)),
            ("width", str((16, 32, 64)[i % 3])),
            ("steps", str(50 * (1 + i % 3))),
            ("seed", str(50_000 + i)),
        )
        out.append(Link("training", params))
    return out


def big_link(seed: int) -> Link:
    """The largest one-scheme record a link can ask for: the Depth page at 50 layers of 256 units."""
    params = (
        ("init", "he_normal"),
        ("act", "relu"),
        ("depth", "50"),
        ("width", "256"),
        ("batch", "512"),
        ("n", "2000"),
        ("steps", "1000"),
        ("seed", str(seed)),
    )
    return Link("depth", params)


# ------------------------------------------------------------------------------------------ sessions


@dataclass
class Visit:
    session: int
    link: str
    time_to_chart: float | None  # seconds; None when the chart never appeared
    time_to_idle: float | None
    time_to_title: float | None = None  # the page's h1: the frontend has loaded and the script has started
    errors: list[str] = field(default_factory=list)


async def visit(page, base: str, link: Link, session: int, timeout_s: float) -> Visit:
    t0 = time.perf_counter()
    v = Visit(session, link.url(""), None, None)
    try:
        await page.goto(link.url(base), wait_until="commit", timeout=timeout_s * 1000)
        await page.wait_for_selector("h1", state="visible", timeout=timeout_s * 1000)
        v.time_to_title = time.perf_counter() - t0
        await page.wait_for_selector(
            HOME_TITLE if link.page == "" else CHART, state="visible", timeout=timeout_s * 1000
        )
        v.time_to_chart = time.perf_counter() - t0
        await page.wait_for_function(IDLE_JS, timeout=timeout_s * 1000, polling=100)
        v.time_to_idle = time.perf_counter() - t0
        await page.wait_for_timeout(200)  # let the last deltas paint
        for el in await page.query_selector_all(ERRORS):
            v.errors.append((await el.inner_text())[:300])
    except Exception as err:  # noqa: BLE001 - a failed navigation is a measured error, not a crash
        v.errors.append(f"{type(err).__name__}: {str(err).splitlines()[0][:300]}")
    return v


async def run_sessions(n_sessions: int, plan, seconds: float, open_link, start: float | None = None) -> list:
    """Run n sessions concurrently; session i opens plan(i, 0), plan(i, 1), ... one after another.

    `open_link(i, link)` opens one link and returns its Visit. A session stops when `plan` returns None or,
    with `seconds`, once that much time has passed since `start` (every session opens at least one link).
    Shared by the browser driver here and the websocket driver (benchmarks/ws_load.py).
    """
    visits: list = []
    start = time.perf_counter() if start is None else start

    async def session(i: int) -> None:
        k = 0
        while True:
            link = plan(i, k)
            if link is None or (seconds and time.perf_counter() - start >= seconds and k > 0):
                break
            visits.append(await open_link(i, link))
            k += 1

    await asyncio.gather(*(session(i) for i in range(n_sessions)))
    return visits


async def drive(base: str, n_sessions: int, plan, seconds: float, timeout_s: float) -> list[Visit]:
    """`plan(session, k)` -> the k-th Link of a session, or None when it is done. Sessions run concurrently."""
    from playwright.async_api import async_playwright

    start = time.perf_counter()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        contexts = [
            await browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(n_sessions)
        ]
        pages: dict = {}

        async def open_link(i: int, link: Link) -> Visit:
            if i not in pages:
                pages[i] = await contexts[i].new_page()
            return await visit(pages[i], base, link, i, timeout_s)

        visits = await run_sessions(n_sessions, plan, seconds, open_link, start)
        for page in pages.values():
            await page.close()
        for ctx in contexts:
            await ctx.close()
        await browser.close()
    return visits


# ------------------------------------------------------------------------------------------ scenarios


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def summarize(name: str, n: int, visits: list[Visit], server: Server, wall: float, extra: dict) -> dict:
    ttc = [v.time_to_chart for v in visits if v.time_to_chart is not None]
    tti = [v.time_to_idle for v in visits if v.time_to_idle is not None]
    ttt = [v.time_to_title for v in visits if v.time_to_title is not None]
    errors = [f"session {v.session} {v.link}: {e}" for v in visits for e in v.errors]
    counts = server.counts()
    by_page: dict[str, list[float]] = {}
    for v in visits:
        if v.time_to_chart is not None:
            by_page.setdefault(v.link.split("?")[0].strip("/") or "home", []).append(v.time_to_chart)
    return {
        "scenario": name,
        "sessions": n,
        "navigations": len(visits),
        "wall_seconds": round(wall, 1),
        "ttc_p50": pct(ttc, 50),
        "ttc_p95": pct(ttc, 95),
        "ttc_max": max(ttc) if ttc else None,
        "title_p50": pct(ttt, 50),
        "title_p95": pct(ttt, 95),
        "idle_p50": pct(tti, 50),
        "idle_p95": pct(tti, 95),
        "ttc_p50_by_page": {k: pct(v, 50) for k, v in sorted(by_page.items())},
        "errors": len(errors),
        "error_samples": errors[:10],
        "peak_rss_mb_server": round(server.peak_main / 2**20, 1),
        "peak_rss_mb_tree": round(server.peak_tree / 2**20, 1),
        "peak_pss_mb_tree": round(server.peak_pss / 2**20, 1),
        "trainings": counts.get("trainings"),
        "run_experiment": counts.get("run_experiment"),
        "run_many": counts.get("run_many"),
        "run_grid": counts.get("run_grid"),
        "distinct_configs": counts.get("distinct"),
        "training_seconds": round(counts.get("seconds", 0.0), 1),
        "server_cpu_seconds": round(server.cpu_seconds(), 1),
        "server_cpu_per_navigation": round(server.cpu_seconds() / max(len(visits), 1), 2),
        "loadavg_before": extra.get("loadavg_before"),
        "loadavg_after": os.getloadavg(),
        **{k: v for k, v in extra.items() if k != "loadavg_before"},
    }


def scenario_one_link(n: int, log_dir: Path, timeout_s: float, big: bool = False, driver=None) -> dict:
    """`driver`: the coroutine function that runs the sessions (default: `drive`, real browsers)."""
    driver = driver or drive
    seed = random.SystemRandom().randrange(10**6, 10**9)  # a config no cache has seen
    link = big_link(seed) if big else one_link(seed)
    name = "big-link" if big else "one-link"
    load = os.getloadavg()
    with Server(log_dir, f"{name}-{n}") as server:
        t0 = time.perf_counter()
        visits = asyncio.run(driver(server.url, n, lambda i, k: link if k == 0 else None, 0, timeout_s))
        out = summarize(
            name,
            n,
            visits,
            server,
            time.perf_counter() - t0,
            {"loadavg_before": load, "link": link.url("")},
        )
    out["one_computation"] = out["run_experiment"] == 1 and out["distinct_configs"] == 1
    return out


def scenario_cold_start(n: int, log_dir: Path, timeout_s: float, driver=None) -> dict:
    """A server just started (or woken from sleep) as deployed, nothing imported yet: n sessions open
    different links (Home and the presets, in turn) at the same moment."""
    driver = driver or drive
    links = preset_links()
    load = os.getloadavg()
    with Server(log_dir, f"cold-start-{n}", counting=False) as server:
        t0 = time.perf_counter()
        visits = asyncio.run(
            driver(server.url, n, lambda i, k: links[i % len(links)] if k == 0 else None, 0, timeout_s)
        )
        wall = time.perf_counter() - t0
        out = summarize("cold-start", n, visits, server, wall, {"loadavg_before": load})
    return out


def mix_plan():
    shared = preset_links()

    def plan(i: int, k: int) -> Link:
        # Two of three visits open a shared preset link (cache hits after the first), one an edited link.
        if k % 3 == 2:
            own = edited_links(i, k // 3)
            return own[(i + k) % len(own)]
        return shared[(i * 5 + k) % len(shared)]

    return plan


def scenario_mix(n: int, seconds: float, log_dir: Path, timeout_s: float, fill: int = 0, driver=None) -> dict:
    driver = driver or drive
    load = os.getloadavg()
    name = "fill" if fill else "mix"
    with Server(log_dir, f"{name}-{n}") as server:
        fill_s = 0.0
        if fill:
            links = fill_links(fill)
            t0 = time.perf_counter()
            workers = min(n, 4)  # fill with a few sessions: the point is a full cache, not a rush
            chunks = [links[w::workers] for w in range(workers)]
            fill_visits = asyncio.run(
                driver(
                    server.url,
                    workers,
                    lambda i, k: chunks[i][k] if k < len(chunks[i]) else None,
                    0,
                    timeout_s * 3,
                )
            )
            fill_s = time.perf_counter() - t0
            fill_errors = [e for v in fill_visits for e in v.errors]
            server.cpu_start = tree_cpu_seconds(server.proc.pid)  # count the mix's CPU, not the fill's
        t0 = time.perf_counter()
        visits = asyncio.run(driver(server.url, n, mix_plan(), seconds, timeout_s))
        extra = {"loadavg_before": load}
        if fill:
            extra.update(
                fill_entries=fill,
                fill_seconds=round(fill_s, 1),
                fill_errors=len(fill_errors),
                fill_error_samples=fill_errors[:5],
            )
        out = summarize(name, n, visits, server, time.perf_counter() - t0, extra)
    return out


def fmt(x, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The options this browser driver and the websocket driver (benchmarks/ws_load.py) share."""
    ap.add_argument(
        "--sessions", type=int, nargs="+", default=[30], help="N concurrent sessions (several: one run each)"
    )
    ap.add_argument("--seconds", type=float, default=60, help="duration of the mix and fill scenarios")
    ap.add_argument(
        "--scenario",
        nargs="+",
        default=["one-link", "mix", "fill"],
        choices=["one-link", "mix", "fill", "big-link", "cold-start"],
        help="default: one-link mix fill; opt-in: big-link, cold-start (a plain server, no training counts)",
    )
    ap.add_argument("--fill-entries", type=int, default=64, help="distinct configs the fill scenario caches")
    ap.add_argument("--timeout", type=float, default=240, help="seconds one navigation may take")
    ap.add_argument("--max-rss-mb", type=float, default=700, help="fail above this peak server-tree RSS")
    ap.add_argument("--json", type=Path, default=None, help="write the summaries here")


def run_scenarios(args: argparse.Namespace, driver=None, annotate=None) -> tuple[list[dict], Path]:
    """Every scenario of `args.scenario` for every N of `args.sessions`, each on a fresh server.

    `driver` runs the sessions (default: `drive`, real browsers); `annotate(result)` may add to a result
    before it is printed. Returns the results and the directory of the server logs.
    """
    log_dir = Path(tempfile.mkdtemp(prefix="initlab-load-"))
    results = []
    for n in args.sessions:
        for sc in args.scenario:
            print(
                f"[{datetime.now():%H:%M:%S}] {sc}, {n} sessions (load average {os.getloadavg()[0]:.1f}) ...",
                flush=True,
            )
            if sc in ("one-link", "big-link"):
                r = scenario_one_link(n, log_dir, args.timeout, big=sc == "big-link", driver=driver)
            elif sc == "cold-start":
                r = scenario_cold_start(n, log_dir, args.timeout, driver=driver)
            else:
                fill = args.fill_entries if sc == "fill" else 0
                r = scenario_mix(n, args.seconds, log_dir, args.timeout, fill=fill, driver=driver)
            if annotate:
                annotate(r)
            results.append(r)
            print(json.dumps(r, indent=1, default=str), flush=True)
    return results, log_dir


def report(results: list[dict], args: argparse.Namespace, log_dir: Path, **about) -> int:
    """Print the table and the failures, write --json (with `about`); 1 if anything failed, else 0."""
    failures = []
    for r in results:
        tag = f"{r['scenario']} N={r['sessions']}"
        if r["errors"] or r.get("fill_errors"):
            failures.append(f"{tag}: {r['errors']} errors {r['error_samples'][:3]}")
        if r["scenario"] in ("one-link", "big-link") and not r["one_computation"]:
            failures.append(f"{tag}: {r['run_experiment']} trainings for 1 distinct config")
        if r["peak_rss_mb_tree"] > args.max_rss_mb:
            failures.append(f"{tag}: peak RSS {r['peak_rss_mb_tree']} MB > {args.max_rss_mb} MB")
    print(
        "\nscenario    N  navs  title p50  ttc p50  ttc p95  idle p50  idle p95  errors  trainings/distinct  "
        "RSS tree MB  PSS tree MB  CPU s/nav  load"
    )
    for r in results:
        print(
            f"{r['scenario']:10} {r['sessions']:2} {r['navigations']:5} {fmt(r['title_p50'], 2):>9} "
            f"{fmt(r['ttc_p50'], 2):>8} {fmt(r['ttc_p95'], 2):>8} {fmt(r['idle_p50'], 2):>9} "
            f"{fmt(r['idle_p95'], 2):>9} {r['errors']:7} "
            f"{fmt(r['trainings']):>9}/{fmt(r['distinct_configs']):<9} {fmt(r['peak_rss_mb_tree']):>11}  "
            f"{fmt(r['peak_pss_mb_tree']):>11}  {fmt(r['server_cpu_per_navigation'], 2):>9}  "
            f"{r['loadavg_before'][0]:.1f}->{r['loadavg_after'][0]:.1f}"
        )
    summary = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        **about,
        "results": results,
        "failures": failures,
        "logs": str(log_dir),
    }
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1, default=str))
    for f in failures:
        print("FAIL", f)
    print(f"server logs: {log_dir}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    ap.add_argument(
        "--pin",
        action="store_true",
        help="run the server on the last CPU and the browsers on the others, so N browser tabs do not eat "
        "the server's CPU (on a 2-core machine: a one-CPU server, like a small cloud instance)",
    )
    args = ap.parse_args(argv)
    global SERVER_CPUS
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin and len(cpus) >= 2:
        SERVER_CPUS = {cpus[-1]}
        os.sched_setaffinity(0, set(cpus[:-1]))  # this process, Playwright's driver and Chromium
    results, log_dir = run_scenarios(args)
    server_cpus = sorted(SERVER_CPUS) if SERVER_CPUS else "shared with the browsers"
    return report(results, args, log_dir, server_cpus=server_cpus)


if __name__ == "__main__":
    sys.exit(main())
