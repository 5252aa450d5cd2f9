"""A tiny benchmark harness: medians of repeated runs, peak RSS, ratios against a peer.

Whole-process figures use /usr/bin/time-like accounting via `resource.getrusage` of children.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass
class Timing:
    name: str
    seconds: list[float]
    peak_rss_mb: float | None = None
    cpu_seconds: list[float] | None = None
    """User + system CPU seconds of each run (whole processes only)."""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else None

    def line(self) -> str:
        rss = f", peak RSS {self.peak_rss_mb:,.0f} MB" if self.peak_rss_mb is not None else ""
        cpu = f", CPU {self.cpu_median:.3f} s" if self.cpu_median is not None else ""
        return f"{self.name}: median {self.median:.3f} s over {len(self.seconds)} runs (min {min(self.seconds):.3f}, max {max(self.seconds):.3f}){cpu}{rss}"


def time_call(name: str, fn: Callable[[], object], runs: int = 3, warmup: int = 1) -> Timing:
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return Timing(name, seconds)


def time_command(
    name: str,
    argv: Sequence[str],
    runs: int = 3,
    warmup: int = 1,
    env: dict[str, str] | None = None,
) -> Timing:
    """Time a whole process; peak RSS is the largest max-RSS of any run (Linux, KB -> MB)."""
    seconds = []
    cpu = []
    peak = 0.0
    for i in range(warmup + runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        _, _, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if proc.stderr is not None:
            proc.stderr.close()
        if i >= warmup:
            seconds.append(elapsed)
            cpu.append(usage.ru_utime + usage.ru_stime)
            peak = max(peak, usage.ru_maxrss / 1024)
    return Timing(name, seconds, peak, cpu)


def ratio(ours: Timing, peer: Timing) -> str:
    line = f"ratio {ours.name} / {peer.name} = {ours.median / peer.median:.2f}"
    if ours.cpu_median and peer.cpu_median:
        line += f" (CPU {ours.cpu_median / peer.cpu_median:.2f})"
    return line


def self_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def python() -> str:
    return sys.executable
