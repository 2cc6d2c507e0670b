"""Training speed of this tree's engine against an earlier commit's, in paired rounds on the same machine.

Run from the repository root:  python benchmarks/bench_paired.py --before 121ba7e  [--rounds 5]
The earlier commit's files come from `git archive` into a temporary folder; each side runs in its own worker
process (one BLAS thread each), and the rounds alternate the two sides config by config, so both see the same
load. Times are CPU seconds per step (time.process_time); ratios are medians of the per-round paired ratios.
The GEMM ceiling is this tree's step with only its matrix products (benchmarks/bench_train.gemm_floor_seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The configurations of benchmarks/bench_train.py's speed table: (layers, width, batch) x activation x dtype.
CASES = [(3, 32, 128), (10, 64, 128), (30, 64, 128), (10, 256, 256)]
STEPS = {32: 300, 64: 150, 256: 40}

WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from threadpoolctl import threadpool_limits
try:
    from core import process
    process.setup()  # as the app does at start (older trees tune malloc on import)
except ImportError:
    pass
import core.train as train
from core.config import ExperimentConfig
Stack = getattr(train, "Stack", None) or getattr(train, "_Stack")
load = getattr(train, "_load")
BASE = ExperimentConfig(dataset="digits", n_samples=2000, schemes=("xavier_uniform",), lr=0.01, optimizer="sgd")
data = {}
with threadpool_limits(limits=1, user_api="blas"):
    for line in sys.stdin:
        job = json.loads(line)
        cfg = BASE.replace(**job["config"])
        key = (cfg.dataset, cfg.n_samples)
        if key not in data:
            data[key] = load(cfg, {})
        if job.get("gemm"):
            sys.path.insert(0, sys.argv[1] + "/benchmarks")
            import bench_train
            print(json.dumps(bench_train.gemm_floor_seconds(cfg)), flush=True)
            continue
        st = Stack([cfg], data[key], job["diagnostics"])
        st.run(lambda f, m: None, evaluate=job["diagnostics"])
        print(json.dumps(st.cpu_seconds / cfg.steps), flush=True)
"""


def tree_at(rev: str, into: Path) -> Path:
    """The files of commit `rev` in a folder (core/ and benchmarks/ are all the worker needs)."""
    blob = subprocess.run(
        ["git", "archive", rev, "core", "benchmarks"], cwd=ROOT, capture_output=True, check=True
    )
    with tarfile.open(fileobj=BytesIO(blob.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


class Worker:
    def __init__(self, tree: Path) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        self.p = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tree)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=tree, env=env,
        )  # fmt: skip

    def ask(self, job: dict) -> float:
        self.p.stdin.write(json.dumps(job) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark worker stopped; run it alone to see its error")
        return float(json.loads(line))

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the earlier commit (e.g. 121ba7e)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    configs = [
        {"depth": d, "width": w, "batch_size": b, "activation": act, "dtype": dt, "steps": STEPS[w]}
        for d, w, b in CASES
        for act in ("tanh", "relu")
        for dt in ("float32", "float64")
    ]
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Worker(tree_at(args.before, Path(tmp))), Worker(ROOT)
        times = {(i, mode, side): [] for i in range(len(configs)) for mode in (0, 1) for side in (0, 1)}
        for r in range(args.rounds):
            for i, cfg in enumerate(configs):
                for mode in (0, 1):  # 0: training alone; 1: evaluation and diagnostics every 10 steps
                    job = {"config": cfg, "diagnostics": bool(mode)}
                    if mode:
                        job["config"] = {
                            **cfg,
                            "record_every": 10,
                            "n_checkpoints": max(2, round(6 * cfg["steps"] / 300)),
                        }
                    sides = (
                        (before, after) if (r + i + mode) % 2 == 0 else (after, before)
                    )  # alternate who goes first
                    for w in sides:
                        times[(i, mode, int(w is after))].append(w.ask(job))
            print(f"round {r + 1} of {args.rounds} done", file=sys.stderr, flush=True)
        floors = [after.ask({"config": cfg, "gemm": True}) for cfg in configs]
        before.close()
        after.close()
    load1 = os.getloadavg()
    print(f"before = {args.before}, after = this tree; {args.rounds} paired rounds; load average (1, 5, 15 min) "
          f"{load0[0]:.1f}, {load0[1]:.1f}, {load0[2]:.1f} at the start, {load1[0]:.1f}, {load1[1]:.1f}, {load1[2]:.1f} "
          "at the end\n")  # fmt: skip
    print("| layers, width, batch | act | dtype | train steps/s before / after | speed after / before (paired) "
          "| with diagnostics: steps/s before / after | speed after / before (paired) | after: share of the GEMM ceiling |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for i, cfg in enumerate(configs):
        cells = []
        for mode in (0, 1):
            b, a = times[(i, mode, 0)], times[(i, mode, 1)]
            ratio = statistics.median(x / y for x, y in zip(b, a))  # > 1: after is faster
            cells.append(f"{1 / statistics.median(b):.0f} / {1 / statistics.median(a):.0f} | {ratio:.2f}x")
        ceiling = floors[i] / statistics.median(times[(i, 0, 1)])
        print(f"| {cfg['depth']}, {cfg['width']}, {cfg['batch_size']} | {cfg['activation']} | {cfg['dtype']} "
              f"| {cells[0]} | {cells[1]} | {ceiling:.0%} |")  # fmt: skip


if __name__ == "__main__":
    main()
