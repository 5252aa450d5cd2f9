"""Multi-task mixture over 5 sources of 1M rows in all (issue 11).

    python -m benchmarks.bench_mix               # 1M rows split into 5 Parquet sources
    python -m benchmarks.bench_mix --rows 100000

The 1M-row benchmark Parquet (benchmarks/data/plain_<n>.parquet, about 600 characters a row,
instruction / input / output / label) is split once into 5 files of 50 / 25 / 15 / 7 / 3 % of the
rows under benchmarks/out/mix/ (tasks t1..t5). Measured, medians of 3 runs after a warm-up:

- in process: `combine` (open the 5 files, map them onto the alpaca shape, add `task`, ids)
  plus `mix.tasks` applied (the mixed frame materialised), for the temperature rule (T = 2,
  up to 3 passes) and the examples-proportional rule with a cap (K = 100,000): wall and CPU s;
- the whole command `studio mix ... --temperature 2 --max-repeat 3 -o OUT.arrow` (process
  start, imports, reading, mixing, preview and an Arrow IPC write; a Parquet output adds the
  zstd encoder's cost, about 10 CPU s per 1M rows of 600 characters): wall and CPU seconds of
  the child, and its peak RSS;
- peak RSS of the in-process mix in a fresh process;
- the per-task counts of both rules against the formula (`total * r_t`): within one row.

Limits from the issue: at most 3 s and 2 GB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from benchmarks.datagen import ensure_dataset
from studio.engine.mix import task_sizes
from studio.engine.recipe import apply_step
from studio.engine.sources import SourceSpec, combine
from studio.engine.steps.mix import MixTasks

SHARES = (0.50, 0.25, 0.15, 0.07, 0.03)
LIMIT_SECONDS = 3.0
LIMIT_MB = 2048.0
OUT = Path(__file__).parent / "out" / "mix"
RULES = {
    "temperature": MixTasks(rule="temperature", temperature=2.0, max_repeat=3.0, seed=0),
    "cap": MixTasks(rule="proportional", cap=100_000, seed=0),
}


def split_sources(n: int) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    paths = [OUT / f"t{i + 1}_{n}.parquet" for i in range(len(SHARES))]
    if all(p.exists() for p in paths):
        return paths
    frame = pl.read_parquet(ensure_dataset(n, "parquet"))
    start = 0
    for i, (path, share) in enumerate(zip(paths, SHARES, strict=True)):
        rows = n - start if i == len(SHARES) - 1 else int(n * share)
        frame.slice(start, rows).write_parquet(path)
        start += rows
    return paths


def specs(paths: list[Path]) -> list[SourceSpec]:
    return [SourceSpec(str(p), f"t{i + 1}") for i, p in enumerate(paths)]


def mix_once(paths: list[Path], rule: str) -> pl.DataFrame:
    combined = combine(specs(paths))
    out, _ = apply_step(combined.dataset.frame, RULES[rule])
    return out


def formula(sizes: dict[str, int], rule: str) -> dict[str, float]:
    """The rule's quotas computed here from scratch (not through studio.engine.mix)."""
    step = RULES[rule]
    if rule == "cap":
        base = {t: min(n, step.cap) for t, n in sizes.items()}
        total = sum(base.values())
        return {t: total * b / sum(base.values()) for t, b in base.items()}
    w = {t: n ** (1 / step.temperature) for t, n in sizes.items()}
    z = sum(w.values())
    r = {t: v / z for t, v in w.items()}
    total = min(int(n * step.max_repeat) / r[t] for t, n in sizes.items())
    total = int(total + 1e-9)
    return {t: total * r[t] for t in sizes}


def high_water_mb() -> float:
    """Peak RSS of this process since its exec (VmHWM; `ru_maxrss` of a forked child can
    include the parent's pages from before the exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, runs: int) -> tuple[float, float, object]:  # noqa: ANN001
    out = fn()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), out


def command(argv: list[str], runs: int) -> tuple[float, float, float]:
    """Median wall and CPU seconds of a child process, and its largest peak RSS (MB)."""
    walls, cpus, peak = [], [], 0.0
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        err = proc.stderr.read().decode() if proc.stderr else ""
        if status != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{err}")
        if i:
            walls.append(elapsed)
            cpus.append(usage.ru_utime + usage.ru_stime)
            peak = max(peak, usage.ru_maxrss / 1024)
    return statistics.median(walls), statistics.median(cpus), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=tuple(RULES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    paths = split_sources(args.rows)
    if args.child:  # one in-process mix in a fresh process: its peak RSS
        out = mix_once(paths, args.child)
        print(json.dumps({"rows": out.height, "peak_mb": high_water_mb()}))
        return

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, polars {pl.__version__}, "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    sizes_in = {
        f"t{i + 1}": pl.scan_parquet(p).select(pl.len()).collect().item()
        for i, p in enumerate(paths)
    }
    print(f"sources: {', '.join(f'{t} {n:,}' for t, n in sizes_in.items())} rows")
    target = OUT / "mixed.arrow"  # the mixing, not the Parquet encoder (see docs)
    argv = [
        sys.executable,
        "-m",
        "studio",
        "mix",
        *[f"{p}:task=t{i + 1}" for i, p in enumerate(paths)],
        "--temperature",
        "2",
        "--max-repeat",
        "3",
        "--force",
        "-o",
        str(target),
    ]
    wall, cpu, peak = command(argv, args.runs)
    verdict = "PASS" if wall <= LIMIT_SECONDS and peak <= LIMIT_MB else "FAIL"
    print(
        f"studio mix (whole command, Arrow IPC out): median {wall:.3f} s wall, {cpu:.3f} s CPU; "
        f"peak RSS {peak:,.0f} MB  [{verdict}]"
    )
    ok = True
    for rule in RULES:
        wall, cpu, out = timed(lambda rule=rule: mix_once(paths, rule), args.runs)
        got = task_sizes(out)  # type: ignore[arg-type]
        quotas = formula(sizes_in, rule)
        worst = max(abs(got.get(t, 0) - q) for t, q in quotas.items())
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_mix",
                "--rows",
                str(args.rows),
                "--child",
                rule,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        peak = json.loads(child.stdout)["peak_mb"]
        verdict = "PASS" if wall <= LIMIT_SECONDS and peak <= LIMIT_MB and worst <= 1 else "FAIL"
        ok &= verdict == "PASS"
        print(
            f"combine + mix.tasks {rule}: median {wall:.3f} s wall, {cpu:.3f} s CPU over "
            f"{args.runs} runs; peak RSS {peak:,.0f} MB; {out.height:,} rows "  # type: ignore[attr-defined]
            f"{dict(got)}; largest |count - formula| {worst:.3f} rows  [{verdict}]"
        )
    print(f"load average at end {os.getloadavg()[0]:.1f}; {'all PASS' if ok else 'some FAIL'}")


if __name__ == "__main__":
    main()
