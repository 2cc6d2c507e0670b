"""Process tuning for the training engine: CPUs, glibc's malloc, BLAS threads and the diagnostics thread.

`setup()` is called once by the app at start (app.py) and by the benchmarks; importing this module changes nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from threadpoolctl import ThreadpoolController


# ------------------------------------------------------------------------------------------- CPUs
# The cgroup files that may cap this process's CPUs (containers, Community Cloud): v2's "<quota> <period>" or
# "max <period>", and v1's quota and period in microseconds (a quota of -1 means none).
CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_CPU_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_CPU_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def _cgroup_v2_cpus(cpu_max: Path) -> float | None:
    """CPUs of a cgroup v2 `cpu.max` ("100000 100000" is one CPU); None without a file or a quota."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
        return None if quota == "max" else _quota_cpus(int(quota), int(period))
    except (OSError, ValueError):
        return None


def _cgroup_v1_cpus(quota_file: Path, period_file: Path) -> float | None:
    """CPUs of a cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` pair; None without files or a quota (-1)."""
    try:
        return _quota_cpus(int(quota_file.read_text()), int(period_file.read_text()))
    except (OSError, ValueError):
        return None


def _quota_cpus(quota: int, period: int) -> float | None:
    return quota / period if quota > 0 and period > 0 else None


def available_cpus() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup CPU quota (v2, else v1), at least 1.

    The affinity mask of a container usually shows the host's CPUs; the quota is what it may use. A fractional
    quota rounds down (1.5 CPUs count as 1, so such a container trains grids in-process).
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    quota = _cgroup_v2_cpus(CGROUP_V2_CPU_MAX)
    if quota is None:
        quota = _cgroup_v1_cpus(CGROUP_V1_CPU_QUOTA, CGROUP_V1_CPU_PERIOD)
    if quota is not None:
        n = min(n, int(quota))
    return max(1, n)


def idle_core() -> bool:
    """True if this process may use 2 CPUs and the 1-minute load average leaves more than half a CPU idle."""
    cpus = available_cpus()
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        load = 0.0
    return cpus >= 2 and load < cpus - 0.5


# ------------------------------------------------------------------------------------ glibc malloc
def tune_malloc(pad_bytes: int = 8 << 20, mmap_threshold: int = 16 << 20, arenas: int = 2) -> None:
    """Let glibc's malloc reuse the memory of numpy's temporaries instead of page-faulting it in anew.

    Statistics, evaluations and their temporaries allocate and free arrays of 0.1-8 MB every few steps.
    By default glibc serves every array above 128 kB with a fresh mmap, which the next use page-faults
    in (zeroed) again (docs/performance.md). Arrays up to `mmap_threshold` now come from the heap, and
    `pad_bytes` of freed memory is kept at its top. Every thread of a Streamlit server would get a heap
    (an arena) of its own, up to 8 per CPU, each keeping such memory: `arenas` caps their number (the GIL
    serializes most allocations anyway), which keeps the 30-session server's memory where it was
    (docs/classroom.md). No effect where the C library is not glibc.
    """
    try:
        import ctypes

        mallopt = ctypes.CDLL("libc.so.6").mallopt
        mallopt(-8, arenas)  # M_ARENA_MAX
        mallopt(-3, mmap_threshold)  # M_MMAP_THRESHOLD
        mallopt(-2, pad_bytes)  # M_TOP_PAD
    except (OSError, AttributeError):
        pass


_SET_UP = False


def setup() -> None:
    """Tune this process for training (once; later calls do nothing): glibc's malloc (`tune_malloc`)."""
    global _SET_UP
    if not _SET_UP:
        tune_malloc()
        _SET_UP = True


# ------------------------------------------------------------------------------------ BLAS threads
_BLAS: ThreadpoolController | None = None  # created on first use: scanning the loaded libraries costs ~1 ms


def blas_limit(threads: int):
    """Context manager pinning the BLAS thread count (threadpoolctl)."""
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=threads, user_api="blas")


# ------------------------------------------------------------------------- the diagnostics thread
_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_PID = 0  # a forked child must not use its parent's (thread-less) executor
_EXECUTOR_LOCK = threading.Lock()


def submit(inline: bool, fn: Callable, *args) -> Future:
    """fn(*args) on the one diagnostics worker thread, or now if `inline`."""
    global _EXECUTOR, _EXECUTOR_PID
    if inline:
        fut: Future = Future()
        fut.set_result(fn(*args))
        return fut
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None or _EXECUTOR_PID != os.getpid():
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="initlab-diagnostics")
            _EXECUTOR_PID = os.getpid()
    return _EXECUTOR.submit(fn, *args)
