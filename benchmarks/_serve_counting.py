"""Serve the app like `streamlit run app.py`, counting the trainings it actually runs (for the load test).

`INITLAB_COUNT_FILE=/tmp/c.json python benchmarks/_serve_counting.py [streamlit run options]` patches
core.train.run_experiment / run_many and core.phase.run_grid with counting wrappers, then starts Streamlit's CLI
in this process. After every training the JSON file holds the calls and the distinct configs trained.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_LOCK = threading.Lock()
_LOCAL = threading.local()  # nesting depth: run_experiment calls run_many, which must not count twice
COUNTS: dict = {
    "run_experiment": 0,  # calls of core.train.run_experiment (st.cache_data misses of ui.runs.experiment)
    "run_many": 0,  # top-level calls of core.train.run_many (not the one inside run_experiment)
    "run_grid": 0,  # calls of core.phase.run_grid (phase-diagram cache misses)
    "trainings": 0,  # all three together: computations the cache did not absorb
    "distinct": 0,  # distinct (function, config) keys among them
    "seconds": 0.0,  # wall time spent in them, summed
    "keys": [],
}


def _write(path: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump(COUNTS, fh)
    os.replace(tmp, path)


def _key(name: str, args: tuple) -> str:
    import dataclasses

    first = args[0] if args else None
    if isinstance(first, (list, tuple)):
        parts = [json.dumps(dataclasses.asdict(c), sort_keys=True, default=repr) for c in first]
        return name + ":" + "|".join(parts)
    if dataclasses.is_dataclass(first):
        return name + ":" + json.dumps(dataclasses.asdict(first), sort_keys=True, default=repr)
    return name + ":" + repr(first)


def counting(name: str, fn, path: str):
    """Wrap `fn` so each outermost call is counted (and its config key recorded) in COUNTS and `path`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        depth = getattr(_LOCAL, "depth", 0)
        _LOCAL.depth = depth + 1
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _LOCAL.depth = depth
            if depth == 0:
                key = _key(name, args)
                with _LOCK:
                    COUNTS[name] += 1
                    COUNTS["trainings"] += 1
                    COUNTS["seconds"] += time.perf_counter() - start
                    if key not in COUNTS["keys"]:
                        COUNTS["keys"].append(key)
                    COUNTS["distinct"] = len(COUNTS["keys"])
                    _write(path)

    return wrapper


def patch(path: str) -> None:
    """Install the counting wrappers on the modules ui/runs.py imports from at call time."""
    import core.phase
    import core.train

    core.train.run_experiment = counting("run_experiment", core.train.run_experiment, path)
    core.train.run_many = counting("run_many", core.train.run_many, path)
    core.phase.run_grid = counting("run_grid", core.phase.run_grid, path)
    _write(path)


def main() -> None:
    path = os.environ.get("INITLAB_COUNT_FILE")
    if not path:
        raise SystemExit("set INITLAB_COUNT_FILE to the JSON file the counts go to")
    os.chdir(ROOT)
    patch(path)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
