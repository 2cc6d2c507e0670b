"""How many CPUs this process may use, and whether one is idle: for the diagnostics thread and the Phase pool.

Both only pay when a second core is free; on a busy or quota-limited server they would cost CPU time and memory.
"""

from __future__ import annotations

import os
from pathlib import Path

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
