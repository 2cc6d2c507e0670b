"""Training speed of core.modern (normalization and residual blocks) against PyTorch eager on the same networks,
and the compute time of the Normalization & residuals page's default view (its first tab) and other tabs.

Run from the repository root:  python benchmarks/bench_modern.py  [--quick] [--view [--page] [--before REV]]
PyTorch is optional (dev only: `pip install torch==2.13.0`); without it the torch columns are left out. One
BLAS / torch thread each. Rounds interleave project and torch bursts; ratios are medians of per-round paired
ratios of CPU time (time.process_time), as in benchmarks/bench_train.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from core.config import ExperimentConfig  # noqa: E402
from core.modern import Optimizer, network, run_modern  # noqa: E402
from core.train import _load, batch_indices  # noqa: E402
from analysis import modern as fm  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # torch is a dev-only reference
    torch = None

ARCHS = {
    "plain": {},
    "plain + BatchNorm": {"norm": "batch"},
    "plain + LayerNorm": {"norm": "layer"},
    "residual": {"block": "residual", "alpha": "inv_sqrt_l"},
    "residual + BatchNorm": {"block": "residual", "norm": "batch", "alpha": "inv_sqrt_l"},
    "residual + LayerNorm, 2-layer branch": {"block": "residual", "norm": "layer", "branch_layers": 2},
    "residual, learned α": {"block": "residual", "alpha": "learned"},
}
CASES = [(20, 32, 64, "tanh", "float64"), (50, 32, 64, "relu", "float64"), (10, 64, 128, "relu", "float32")]


class TorchNet:
    """The same network in torch eager (nn.Parameters from the numpy net's start), SGD on the same batches."""

    def __init__(self, cfg: ExperimentConfig, net, data) -> None:
        F = torch.nn.functional
        dt = torch.float32 if cfg.dtype == "float32" else torch.float64
        self.P = {k: torch.nn.Parameter(torch.tensor(v, dtype=dt)) for k, v in net.params.items()}
        self.running = [
            (torch.zeros(cfg.width, dtype=dt), torch.ones(cfg.width, dtype=dt)) for _ in range(cfg.depth)
        ]
        self.net, self.F = net, F
        self.act = {"tanh": torch.tanh, "relu": torch.relu}[cfg.activation]
        self.opt = torch.optim.SGD(list(self.P.values()), lr=cfg.lr)
        self.X = torch.tensor(data.X_train, dtype=dt)
        self.y = torch.tensor(data.y_train)
        self.idx = torch.tensor(batch_indices(cfg, len(data.y_train)))
        self.alpha = net.alpha(0)

    def _norm(self, z, j):
        arch, P, F = self.net.arch, self.P, self.F
        if arch.norm == "batch":
            rm, rv = self.running[j]
            return F.batch_norm(z, rm, rv, P[f"g{j}"], P[f"be{j}"], training=True, momentum=0.1, eps=1e-5)
        if arch.norm == "layer":
            return F.layer_norm(z, (z.shape[1],), P[f"g{j}"], P[f"be{j}"], eps=1e-5)
        return z

    def loss(self, X, y):
        net, P, act = self.net, self.P, self.act
        h = X
        if net.arch.block == "residual":
            h = h @ P["W0"] + P["b0"]
        for j in range(net.depth):
            i = net.first_dense(j)
            if net.arch.block == "plain":
                h = act(self._norm(h @ P[f"W{i}"] + P[f"b{i}"], j))
                continue
            f = act(self._norm(h, j)) @ P[f"W{i}"] + P[f"b{i}"]
            if net.arch.branch_layers == 2:
                f = act(f) @ P[f"W{i + 1}"] + P[f"b{i + 1}"]
            h = h + (P[f"a{j}"] if f"a{j}" in P else self.alpha) * f
        o = net.n_dense - 1
        return self.F.cross_entropy(h @ P[f"W{o}"] + P[f"b{o}"], y)

    def seconds(self, steps: int) -> float:
        t = time.process_time()
        for s in range(steps):
            i = self.idx[s]
            self.opt.zero_grad(set_to_none=True)
            self.loss(self.X[i], self.y[i]).backward()
            self.opt.step()
        return (time.process_time() - t) / steps


def project_seconds(cfg: ExperimentConfig, data, steps: int) -> float:
    """CPU time per training step of core.modern (forward, backward, SGD; no records)."""
    net = network(cfg, data.X_train.shape[1], data.n_classes)
    opt = Optimizer(cfg.optimizer, cfg.lr, net.params)
    X, y = data.X_train.astype(net.dtype), data.y_train
    idx = batch_indices(cfg, len(y))
    t = time.process_time()
    with np.errstate(all="ignore"):
        for s in range(steps):
            _, G, _ = net.loss_and_grads(X[idx[s]], y[idx[s]], "train")
            opt.step(net.params, G)
    return (time.process_time() - t) / steps


def speed_table(rounds: int, steps: int) -> list[str]:
    head = "| layers, width, batch | act | dtype | network | core.modern steps/s |"
    rows = [head + (" torch eager steps/s | ratio |" if torch else ""), "|---" * (5 + 2 * bool(torch)) + "|"]
    print("\n".join(rows), flush=True)
    for depth, width, batch, act, dtype in CASES:
        for name, changes in ARCHS.items():
            cfg = ExperimentConfig(
                dataset="spiral", depth=depth, width=width, batch_size=batch, activation=act, dtype=dtype,
                schemes=("he_normal",), optimizer="sgd", lr=0.01, steps=steps, **changes,
            )  # fmt: skip
            data = _load(cfg, {})
            mine, theirs, ratios = [], [], []
            for _ in range(rounds):
                a = project_seconds(cfg, data, steps)
                mine.append(a)
                if torch is not None:
                    b = TorchNet(cfg, network(cfg, 2, data.n_classes), data).seconds(steps)
                    theirs.append(b)
                    ratios.append(b / a)
            row = f"| {depth}, {width}, {batch} | {act} | {dtype} | {name} | {1 / statistics.median(mine):.0f} |"
            if torch is not None:
                row += f" {1 / statistics.median(theirs):.0f} | {statistics.median(ratios):.2f}x |"
            rows.append(row)
            print(row, flush=True)
    return rows


def view_rows(cpu: dict[str, list[float]], wall: dict[str, list[float]]) -> list[str]:
    """Rows of the view table: the default view (what opening the page computes: its first tab), each other
    tab (what opening it computes), and all four tabs."""
    rows = [
        "| what is computed | networks | CPU seconds (median) | wall seconds (median) |",
        "|---|---|---|---|",
    ]
    for i, name in enumerate(fm.PARTS):
        what = (
            f"tab {i + 1} opened: {name.lower()}"
            if i
            else f"**default view** (opening the page = tab 1: {name.lower()})"
        )
        n = len(getattr(fm, name).variants)
        rows.append(
            f"| {what} | {n} | {statistics.median(cpu[name]):.2f} | {statistics.median(wall[name]):.2f} |"
        )
    n = sum(len(getattr(fm, p).variants) for p in fm.PARTS)
    rows.append(
        f"| all four tabs | {n} | {statistics.median(cpu['all']):.2f} | {statistics.median(wall['all']):.2f} |"
    )
    return rows


def default_view_seconds(rounds: int) -> list[str]:
    """The page's tabs, each computed cold: every network of its part, trained and recorded (the page
    computes a tab only while it is open, and opens on the first). CPU time (what it costs on an idle core) and wall time
    (what it took on this machine, as loaded as it was)."""
    base = ExperimentConfig(**fm.DEFAULTS, **fm.FIXED)
    cpu: dict[str, list[float]] = {name: [] for name in (*fm.PARTS, "all")}
    wall: dict[str, list[float]] = {name: [] for name in (*fm.PARTS, "all")}
    for _ in range(rounds):
        c_all = w_all = 0.0
        for name in fm.PARTS:
            configs = getattr(fm, name).configs(base)
            c, w = time.process_time(), time.perf_counter()
            run_modern(configs)
            c, w = time.process_time() - c, time.perf_counter() - w
            cpu[name].append(c)
            wall[name].append(w)
            c_all, w_all = c_all + c, w_all + w
        cpu["all"].append(c_all)
        wall["all"].append(w_all)
    rows = view_rows(cpu, wall)
    for r in rows:
        print(r, flush=True)
    return rows


def page_seconds(rounds: int) -> list[str]:
    """The page itself in Streamlit's AppTest after one warm-up run, caches cleared each round: opening it (the
    app's script, the page's controls, the default tab's training, figures and sentences), then each other tab."""
    import streamlit as st

    from tests.apptest_util import open_page

    cpu: dict[str, list[float]] = {name: [] for name in (*fm.PARTS, "all")}
    wall: dict[str, list[float]] = {name: [] for name in (*fm.PARTS, "all")}
    open_page("modern", timeout=300)  # the app's imports and first-run work, which a running server has done
    for _ in range(rounds):
        st.cache_data.clear()
        c, w = time.process_time(), time.perf_counter()
        at = open_page("modern", timeout=300)
        cpu[fm.PARTS[0]].append(time.process_time() - c)
        wall[fm.PARTS[0]].append(time.perf_counter() - w)
        assert not at.exception, at.exception
        labels = [t.label for t in at.tabs]
        for name, label in zip(fm.PARTS[1:], labels[1:]):
            at.session_state["modern_part"] = label  # what clicking the tab does
            c, w = time.process_time(), time.perf_counter()
            at.run()
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - w)
            assert not at.exception, at.exception
        cpu["all"].append(sum(cpu[p][-1] for p in fm.PARTS))
        wall["all"].append(sum(wall[p][-1] for p in fm.PARTS))
    rows = view_rows(cpu, wall)
    for r in rows:
        print(r, flush=True)
    return rows


VIEW_WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from threadpoolctl import threadpool_limits
from core.config import ExperimentConfig
from core.modern import run_modern
try:
    from analysis import modern as fm  # where the lesson's defaults live since issue 15
except ImportError:
    from figures import modern as fm
base = ExperimentConfig(**fm.DEFAULTS, **fm.FIXED)
with threadpool_limits(limits=1, user_api="blas"):
    for line in sys.stdin:
        t = time.process_time()
        run_modern(getattr(fm, line.strip()).configs(base))
        print(json.dumps(time.process_time() - t), flush=True)
"""


def view_before_after(before: str, rounds: int) -> list[str]:
    """The default view of commit `before` (its code and its defaults) against this tree's, part by part, in
    paired rounds: two worker processes that take turns, CPU seconds; ratio = median of per-round ratios."""
    import subprocess
    import tempfile

    from bench_paired import tree_at

    with tempfile.TemporaryDirectory() as tmp:
        blob = subprocess.run(
            ["git", "archive", before, "figures"], cwd=ROOT, capture_output=True, check=True
        )
        tree = tree_at(before, Path(tmp))
        import tarfile
        from io import BytesIO

        with tarfile.open(fileobj=BytesIO(blob.stdout)) as tar:
            tar.extractall(tree, filter="data")
        workers = [
            subprocess.Popen([sys.executable, "-c", VIEW_WORKER, str(t)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, cwd=t)
            for t in (tree, ROOT)
        ]  # fmt: skip
        times: dict[tuple[str, int], list[float]] = {(p, w): [] for p in (*fm.PARTS, "all") for w in (0, 1)}
        for r in range(rounds):
            total = [0.0, 0.0]
            for i, part in enumerate(fm.PARTS):
                for w in (0, 1) if (r + i) % 2 == 0 else (1, 0):
                    workers[w].stdin.write(part + "\n")
                    workers[w].stdin.flush()
                    t = float(workers[w].stdout.readline())
                    times[(part, w)].append(t)
                    total[w] += t
            for w in (0, 1):
                times[("all", w)].append(total[w])
        for w in workers:
            w.stdin.close()
            w.wait()
    rows = [
        f"| part | CPU seconds before ({before}) | CPU seconds after | speed after / before (paired) |",
        "|---|---|---|---|",
    ]
    for part in (*fm.PARTS, "all"):
        b, a = times[(part, 0)], times[(part, 1)]
        ratio = statistics.median(x / y for x, y in zip(b, a))
        rows.append(
            f"| {part.lower()} | {statistics.median(b):.2f} | {statistics.median(a):.2f} | {ratio:.2f}x |"
        )
    for row in rows:
        print(row, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 20 steps instead of 5 of 50")
    parser.add_argument("--view", action="store_true", help="only the page's default view")
    parser.add_argument(
        "--page", action="store_true", help="with --view: also the page's script runs in AppTest, tab by tab"
    )
    parser.add_argument(
        "--before", help="with --view: also the default view of this commit, in paired rounds"
    )
    args = parser.parse_args()
    rounds, steps = (2, 20) if args.quick else (5, 50)
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"torch {torch.__version__ if torch else 'not installed'}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    with threadpool_limits(limits=1, user_api="blas"):
        if not args.view:
            print("## Steps per second (one thread; SGD, no records)\n")
            speed_table(rounds, steps)
        print("\n## The page's default view, computed cold\n")
        if args.before:
            view_before_after(args.before, max(2, rounds // 2))
        else:
            default_view_seconds(max(1, rounds // 2))
            if args.page:
                print("\n## The page in AppTest (Streamlit script runs, caches cleared), tab by tab\n")
                page_seconds(max(1, rounds // 2))
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
