"""Memory of the Phase page's process pool: RSS, PSS and USS of each process it adds, and their total.

    python benchmarks/pool_memory.py [--main script|streamlit] [--steps 50] [--width 32] [--idle SECONDS]

Trains one Phase grid through `core.phase.run_grid` with two workers (a grid over `POOL_MIN_WORK`, so it goes
to the pool as on the page), samples /proc every 0.1 s while it runs, then reads every process the pool
added (the forkserver, its workers and multiprocessing's resource tracker) from /proc/<pid>/status and
/proc/<pid>/smaps_rollup, and asks each worker which heavy modules it imported.

A worker started by forkserver first runs the parent's main script as `__mp_main__`. `--main script` (the
default) leaves this light script as the main one, as `benchmarks/_serve_counting.py` is in the load test;
`--main streamlit` makes it Streamlit's console script, as under `streamlit run app.py` (what a deployment
runs), whose module-level `from streamlit.web.cli import main` then runs in every worker that imports it.
`--idle SECONDS` sets `core.phase.POOL_IDLE_SECONDS`, waits that long after the grid plus 2 s and lists the
processes left (the pool's are shut down after it; multiprocessing's forkserver and resource tracker stay).
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEAVY = ("pandas", "sklearn", "scipy", "streamlit", "plotly", "pyarrow", "core.phase")
# Run in a worker by the pool (eval is picklable by name, so nothing of this script is needed there).
PROBE = (
    "__import__('time').sleep(0.5) or (__import__('os').getpid(), len(__import__('sys').modules), "
    f"[m for m in {HEAVY!r} if m in __import__('sys').modules])"
)


def children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of every live descendant of `pid`."""
    kids, out, todo = children(), [], [pid]
    while todo:
        p = todo.pop()
        for k in kids.get(p, []):
            out.append((k, p))
            todo.append(k)
    return out


def memory_kb(pid: int) -> dict[str, int]:
    """Rss, Pss and Uss (private clean + dirty) in kB; zeros if the process is gone."""
    fields = {"Rss": 0, "Pss": 0, "Private_Clean": 0, "Private_Dirty": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                name, _, rest = line.partition(":")
                if name in fields:
                    fields[name] = int(rest.split()[0])
    except OSError:
        pass
    return {
        "rss": fields["Rss"],
        "pss": fields["Pss"],
        "uss": fields["Private_Clean"] + fields["Private_Dirty"],
    }


def label(pid: int, ppid: int, me: int, forkservers: set[int]) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        cmd = ""
    if ppid in forkservers:
        return "worker"
    if "resource_tracker" in cmd:
        return "resource_tracker"
    if "forkserver" in cmd and ppid == me:
        return "forkserver"
    return "other: " + cmd[:60]


def pool_processes() -> list[tuple[int, str]]:
    me = os.getpid()
    procs = descendants(me)
    forkservers = {p for p, pp in procs if pp == me and label(p, pp, me, set()) == "forkserver"}
    return [(p, label(p, pp, me, forkservers)) for p, pp in procs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--main", choices=("script", "streamlit"), default="script")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--idle", type=float, default=None, help="set POOL_IDLE_SECONDS and wait it out")
    args = ap.parse_args()
    if args.main == "streamlit":
        # What `streamlit run` looks like to multiprocessing: __main__ is the console script.
        sys.modules["__main__"].__file__ = str(Path(sysconfig.get_path("scripts")) / "streamlit")
    from core import phase

    if args.idle is not None:
        phase.POOL_IDLE_SECONDS = args.idle
    pc = phase.PhaseConfig(steps=args.steps, width=args.width)
    work = phase.grid_work(pc)
    print(f"grid: {pc}\nwork {work:.3g} multiply-adds (POOL_MIN_WORK {phase.POOL_MIN_WORK:.3g})")
    if work < phase.POOL_MIN_WORK:
        raise SystemExit("this grid would run in-process: use more --steps or --width")

    peak = {"rss": 0, "pss": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            tot = [memory_kb(p) for p, _ in pool_processes()]
            for k in peak:
                peak[k] = max(peak[k], sum(m[k] for m in tot))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    table = phase.run_grid(pc, workers=2, cache=phase.CellCache())
    seconds = time.perf_counter() - start
    # Which modules each worker holds (after a cell, so the cell's imports are counted).
    pool = phase._pool(2)  # noqa: SLF001 - the pool run_grid just used (a new one if it was already shut)
    probes = [f.result() for f in [pool.submit(eval, PROBE) for _ in range(4)]]
    stop.set()
    sampler.join()
    print(f"{len(table)} cells in {seconds:.1f} s (with pool start-up)\n")
    print(f"{'process':<18} {'pid':>7} {'RSS MB':>8} {'PSS MB':>8} {'USS MB':>8}")
    total = {"rss": 0, "pss": 0, "uss": 0}
    for pid, name in sorted(pool_processes(), key=lambda x: x[1]):
        m = memory_kb(pid)
        for k in total:
            total[k] += m[k]
        print(f"{name:<18} {pid:>7} {m['rss'] / 1024:>8.1f} {m['pss'] / 1024:>8.1f} {m['uss'] / 1024:>8.1f}")
    print(
        f"{'total':<18} {'':>7} {total['rss'] / 1024:>8.1f} {total['pss'] / 1024:>8.1f} {total['uss'] / 1024:>8.1f}"
    )
    print(f"{'peak during grid':<18} {'':>7} {peak['rss'] / 1024:>8.1f} {peak['pss'] / 1024:>8.1f}")
    print(f"this process: {memory_kb(os.getpid())['rss'] / 1024:.1f} MB RSS\n")
    for pid, n_modules, heavy in sorted(set((p, n, tuple(h)) for p, n, h in probes)):
        print(f"worker {pid}: {n_modules} modules; heavy: {', '.join(heavy) or 'none'}")
    if args.idle is not None:
        time.sleep(args.idle + 2)
        print(f"\nafter {args.idle + 2:g} s without a grid:")
        for pid, name in sorted(pool_processes(), key=lambda x: x[1]):
            m = memory_kb(pid)
            print(
                f"{name:<18} {pid:>7} {m['rss'] / 1024:>8.1f} {m['pss'] / 1024:>8.1f} {m['uss'] / 1024:>8.1f}"
            )


if __name__ == "__main__":
    main()
