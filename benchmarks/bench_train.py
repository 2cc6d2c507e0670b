"""Training speed of Init Lab's numpy engine, against PyTorch eager on the same model, data and batches.

Run from the repository root:  python benchmarks/bench_train.py  [--quick] [--save]
(--save writes the printed tables to benchmarks/RESULTS.md). PyTorch is optional (dev only:
`pip install torch==2.13.0`); without it the torch columns are left out. One BLAS / torch thread each.
Timings are interleaved bursts (project, torch, project, torch, ...) in one process; the tables give
medians, and ratios are medians of the per-round paired ratios (the machine's speed drifts between
processes, paired ratios much less; docs/performance.md). Single-thread timings are the process's CPU
time (time.process_time), which equals wall time on an idle machine and does not count the time other
programs hold the CPU on a busy one; the BLAS-threads table uses wall time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core.train as train  # noqa: E402
from core import process  # noqa: E402
from core.config import ExperimentConfig  # noqa: E402
from core import engine  # noqa: E402
from core.engine import Stack, batch_indices, initial_network  # noqa: E402
from core.train import _load  # noqa: E402

process.setup()  # as the app does at start: glibc's malloc tuned for the engine's temporaries

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # torch is a dev-only reference
    torch = None

CASES = [(3, 32, 128), (10, 64, 128), (30, 64, 128), (10, 256, 256)]
BASE = ExperimentConfig(
    dataset="digits", n_samples=2000, schemes=("xavier_uniform",), lr=0.01, optimizer="sgd"
)


def cfg_for(depth, width, batch, act, dtype, steps, **kw) -> ExperimentConfig:
    return BASE.replace(
        depth=depth, width=width, batch_size=batch, activation=act, dtype=dtype, steps=steps, **kw
    )


def project_seconds(cfgs, diagnostics: bool, evaluate: bool, wall: bool = False, both: bool = False):
    """CPU (or wall) time per step of the project's training loop (`Stack.run`, as run_many calls it)."""
    data = _load(cfgs[0], {})
    st = Stack(list(cfgs), data, diagnostics)
    rec = st.run(lambda f, m: None, evaluate=evaluate)[0]
    cpu, w = st.cpu_seconds / cfgs[0].steps, rec.seconds / cfgs[0].steps
    return (cpu, w) if both else (w if wall else cpu)


def gemm_floor_seconds(cfg: ExperimentConfig, repeats: int = 200) -> float:
    """CPU time per step of the step's matrix products alone (forward, dW, dh; same shapes, buffers and
    BLAS calls as Stack): what any numpy training loop pays before its first elementwise operation."""
    st = Stack([cfg], _load(cfg, {}), False)
    st.load_batch(0)
    st.forward()
    st.loss_and_backward()
    L = st.L
    dz = [st.DZ[j] for j in range(L)] + [st.Z[L]]  # dLoss/dz of each layer's output (values do not matter)
    wt = st.WT_buf if st.WT_buf is not None else st.WT
    t0 = time.process_time()
    for _ in range(repeats):
        h = st.Xb
        for j in range(L + 1):
            np.matmul(h, st.Wa[j], out=st.Z[j])
            h = st.Ha[j] if j < L else h
        for j in range(L, 0, -1):
            np.matmul(st.HaT[j - 1], dz[j], out=st.Ga[j])
            np.matmul(dz[j], wt[j], out=st.DZ[j - 1])
        np.matmul(st.Xb.T, dz[0], out=st.Ga[0])
    return (time.process_time() - t0) / repeats


class TorchNet:
    """The same MLP, initial weights, batches and SGD in PyTorch eager (one thread)."""

    def __init__(self, cfg: ExperimentConfig) -> None:
        data = _load(cfg, {})
        dt = torch.float32 if cfg.dtype == "float32" else torch.float64
        net = initial_network(cfg, cfg.schemes[0])
        layers = []
        for j, (W, b) in enumerate(zip(net.weights, net.biases)):
            lin = torch.nn.Linear(W.shape[0], W.shape[1], dtype=dt)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if j < len(net.weights) - 1:
                layers.append(torch.nn.Tanh() if cfg.activation == "tanh" else torch.nn.ReLU())
        self.net = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=cfg.lr)
        self.X = torch.from_numpy(data.X_train).to(dt)
        self.y = torch.from_numpy(data.y_train)
        self.idx = torch.from_numpy(batch_indices(cfg, len(data.y_train)))
        self.steps = cfg.steps

    def seconds(self) -> float:
        t0 = time.process_time()
        for s in range(self.steps):
            i = self.idx[s]
            self.opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(self.net(self.X[i]), self.y[i])
            loss.backward()
            self.opt.step()
        return (time.process_time() - t0) / self.steps


def med(xs) -> float:
    return statistics.median(xs)


def speed_table(rounds: int, quick: bool) -> list[str]:
    head = (
        "| layers, width, batch | act | dtype | train steps/s | + eval every 10 "
        "| + eval and diagnostics every 10 (histograms: 6 per 300 steps) "
        "| diagnostics overhead: CPU / wall |"
    )
    rows = [head]
    if torch is not None:
        rows = [head + " torch eager steps/s | ratio | ratio if everything but the GEMMs took no time |"]
    rows.append("|" + "---|" * (rows[0].count("|") - 1))
    print("\n".join(rows), flush=True)
    for depth, width, batch in CASES:
        for act in ("tanh", "relu"):
            for dtype in ("float32", "float64"):
                target = 0.4 if not quick else 0.15
                est = {32: 2000, 64: 700 if depth == 10 else 230, 256: 40}[width] * (
                    1.5 if dtype == "float32" else 1
                )
                steps = int(max(100, min(1000, target * est)))
                cfg = cfg_for(depth, width, batch, act, dtype, steps)
                tn = TorchNet(cfg) if torch is not None else None
                t_train, t_eval, t_diag, t_torch, ratios, cpu_ratio, wall_ratio = [], [], [], [], [], [], []
                for _ in range(rounds):
                    a = project_seconds([cfg], diagnostics=False, evaluate=False)
                    t_train.append(a)
                    if tn is not None:
                        b = tn.seconds()
                        t_torch.append(b)
                        ratios.append(b / a)
                    # statistics every 10 steps, histograms at the app's default rate (6 checkpoints in 300 steps)
                    rec = cfg.replace(record_every=10, n_checkpoints=max(2, round(6 * steps / 300)))
                    ce, we = project_seconds([rec], False, True, both=True)
                    cd, wd = project_seconds([rec], True, True, both=True)
                    t_eval.append(ce)
                    t_diag.append(cd)
                    cpu_ratio.append(cd / ce)  # paired within the round, as the torch ratio is
                    wall_ratio.append(wd / we)
                a, e, d = med(t_train), med(t_eval), med(t_diag)
                row = (
                    f"| {depth}, {width}, {batch} | {act} | {dtype} | {1 / a:.0f} | {1 / e:.0f} | {1 / d:.0f} "
                    f"| {100 * (med(cpu_ratio) - 1):+.0f} % / {100 * (med(wall_ratio) - 1):+.0f} % |"
                )
                if tn is not None:
                    floor = gemm_floor_seconds(cfg)
                    row += f" {1 / med(t_torch):.0f} | {med(ratios):.2f}x | {med(t_torch) / floor:.2f}x |"
                rows.append(row)
                print(row, flush=True)
    return rows


def _share(arrays) -> tuple[float, float]:
    """(subnormal share, exact-zero share) of all values in `arrays`."""
    v = np.concatenate([np.ravel(a) for a in arrays])
    tiny = np.finfo(v.dtype).tiny
    return np.count_nonzero((v != 0) & (np.abs(v) < tiny)) / v.size, np.count_nonzero(v == 0) / v.size


def subnormal_table(rounds: int) -> list[str]:
    rows = [
        "| dtype | scheme | steps/s | time vs He/Xavier | subnormal share: activations / gradients (step 0) "
        "| zero share: activations / gradients |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(rows), flush=True)
    for dtype in ("float64", "float32"):
        variants = [("he_normal", {}), ("xavier_uniform", {})] + [
            ("normal", {"weight_std": sd}) for sd in (0.01, 0.001, 1e-4, 1e-6)
        ]
        cfgs = [cfg_for(30, 64, 128, "tanh", dtype, 100, schemes=(s,), **kw) for s, kw in variants]
        times = [[] for _ in cfgs]
        for _ in range(rounds):
            for i, c in enumerate(cfgs):
                times[i].append(project_seconds([c], diagnostics=False, evaluate=False))
        ref = med([med(times[0]), med(times[1])])
        for (s, kw), c, t in zip(variants, cfgs, times):
            data = _load(c, {})
            net = initial_network(c, s)
            b0 = batch_indices(c, len(data.y_train))[0]
            hs = net.activations(data.X_train[b0])
            _, dW, _ = net.loss_and_grads(data.X_train[b0], data.y_train[b0])
            (sa, za), (sg, zg) = _share(hs), _share(dW)
            label = s + (f" sigma={kw['weight_std']:g}" if kw else "")
            row = (
                f"| {dtype} | {label} | {1 / med(t):.0f} | {med(t) / ref:.2f}x | {sa:.1%} / {sg:.1%} "
                f"| {za:.1%} / {zg:.1%} |"
            )
            rows.append(row)
            print(row, flush=True)
    return rows


def stack_table(rounds: int) -> list[str]:
    rows = [
        "| layers, width, batch | dtype | K | stacked (s) | one after another (s) | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(rows), flush=True)
    schemes = ("xavier_uniform", "he_normal", "orthogonal", "normal", "lecun_normal")
    for depth, width, batch in [(3, 32, 128), (10, 64, 128), (10, 256, 256)]:
        for dtype in ("float32", "float64"):
            steps = {32: 300, 64: 100, 256: 20}[width]
            cfgs = [cfg_for(depth, width, batch, "tanh", dtype, steps, schemes=(s,)) for s in schemes]
            old_w, old_k = train.STACK_MAX_WIDTH, train.STACK_MAX_K
            ts, tq = [], []
            try:
                for _ in range(rounds):
                    train.STACK_MAX_WIDTH = dict.fromkeys(old_w, 256)
                    t0 = time.process_time()
                    train.run_many(cfgs, diagnostics=False)
                    ts.append(time.process_time() - t0)
                    train.STACK_MAX_K = 1
                    t0 = time.process_time()
                    train.run_many(cfgs, diagnostics=False)
                    tq.append(time.process_time() - t0)
                    train.STACK_MAX_K = old_k
            finally:
                train.STACK_MAX_WIDTH, train.STACK_MAX_K = old_w, old_k
            row = (
                f"| {depth}, {width}, {batch} | {dtype} | {len(schemes)} | {med(ts):.3f} | {med(tq):.3f} "
                f"| {med([q / s for q, s in zip(tq, ts)]):.2f}x |"
            )
            rows.append(row)
            print(row, flush=True)
    return rows


def thread_table(rounds: int) -> list[str]:
    rows = [
        "| layers, width, batch | dtype | 1 thread steps/s | 2 threads steps/s | 2 vs 1 |",
        "|---|---|---|---|---|",
    ]
    print("\n".join(rows), flush=True)
    old = engine.blas_threads
    try:
        for depth, width, batch in [(10, 64, 128), (10, 256, 256)]:
            for dtype in ("float32", "float64"):
                cfg = cfg_for(depth, width, batch, "tanh", dtype, 200 if width == 64 else 40)
                t1, t2 = [], []
                for _ in range(rounds):
                    engine.blas_threads = lambda c: 1
                    t1.append(project_seconds([cfg], False, False, wall=True))
                    engine.blas_threads = lambda c: 2
                    t2.append(project_seconds([cfg], False, False, wall=True))
                row = (
                    f"| {depth}, {width}, {batch} | {dtype} | {1 / med(t1):.0f} | {1 / med(t2):.0f} "
                    f"| {med([a / b for a, b in zip(t1, t2)]):.2f}x |"
                )
                rows.append(row)
                print(row, flush=True)
    finally:
        engine.blas_threads = old
    return rows


def header() -> list[str]:
    blas = [f"{d['internal_api']} {d.get('version')} ({d.get('architecture')})" for d in threadpool_info()]
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return [
        f"Command: `python benchmarks/bench_train.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. Machine: {cpu}, {os.cpu_count()} CPUs, "
        f"load average at start {os.getloadavg()[0]:.1f}.",
        f"Python {platform.python_version()}, numpy {np.__version__}, BLAS: {'; '.join(blas)}; "
        f"torch {torch.__version__ if torch is not None else 'not installed'}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}.",
        "Model: 64-D digits input, 10 classes, SGD lr 0.01, same initial weights and batches in both.",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds and shorter bursts")
    ap.add_argument("--save", action="store_true", help="write the tables to benchmarks/RESULTS.md")
    args = ap.parse_args()
    rounds = 3 if args.quick else 5
    out = ["# Training speed", ""] + header() + [""]
    print("\n".join(out), flush=True)
    sections = [
        (
            "Steps per second (one BLAS thread; 'train' = the training loop alone)",
            lambda: speed_table(rounds, args.quick),
        ),
        (
            "Tiny initial weights (depth 30, width 64, batch 128, tanh): subnormals",
            lambda: subnormal_table(rounds),
        ),
        (
            "Five schemes stacked (K, fan_in, fan_out) vs one after another (run_many, CPU time)",
            lambda: stack_table(rounds),
        ),
        (
            "BLAS threads (wall time: meaningful only on an otherwise idle machine)",
            lambda: thread_table(rounds),
        ),
    ]
    engine.blas_threads = lambda c: 1  # one thread each, as torch.set_num_threads(1); thread_table varies it
    with threadpool_limits(limits=1, user_api="blas"):
        for title, fn in sections:
            print(f"\n## {title}\n", flush=True)
            rows = fn()
            out += ["", f"## {title}", ""] + rows
    if args.save:
        (ROOT / "benchmarks" / "RESULTS.md").write_text("\n".join(out) + "\n")
        print("\nwritten to benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
