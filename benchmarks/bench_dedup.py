"""Dedup benchmark: near-duplicates (ours vs datasketch MinHashLSH vs rensa), normalized dedup
(ours vs a plain polars regex pipeline), recall/precision on planted near-copies.

    python -m benchmarks.bench_dedup --rows 1000000 --small-rows 100000 --runs 3 --skip-peers \
        --data-dir /tmp/i5/data --json /tmp/i5/bench.json

Data: `benchmarks.datagen` instruction rows (~600 characters: instruction, input, output) with
5 % planted near-copies (2-4 % of the words of `output` substituted, inserted or deleted);
dedup runs on `output`. Ours runs end to end as a separate process (`studio dedup PATH
--column output --mode near -o OUT.parquet`: read, normalize, shingle, hash, band, verify,
cluster, write), so its wall time and peak RSS are the whole command's. Peers run in
subprocesses too (their own peak RSS), on `--peer-rows` rows; their 1M figures are estimated
linearly. Each figure is the median of `--runs` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent


def dataset(n: int, data_dir: Path) -> tuple[Path, Path]:
    """(rows parquet, truth parquet) with planted near-copies, written once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"neardup_{n}.parquet"
    truth = data_dir / f"neardup_{n}.truth.parquet"
    if not (path.exists() and truth.exists()):
        from benchmarks.datagen import instruction_frame, plant_near_duplicates

        frame, planted = plant_near_duplicates(instruction_frame(int(n / 1.05), 0))
        frame.write_parquet(path)
        planted.write_parquet(truth)
    return path, truth


def score(label: np.ndarray, kept_of: np.ndarray, truth: pl.DataFrame) -> dict[str, float]:
    """Recall: planted copies removed while their source's cluster holds them. Precision:
    removed rows whose kept row is their planted partner (copy/source of the same source)."""
    n = len(label)
    group = np.full(n, -1, dtype=np.int64)
    copy = truth["copy_row"].to_numpy()
    source = truth["source_row"].to_numpy()
    group[source] = source
    group[copy] = source
    removed = (label >= 0) & (kept_of >= 0) & (kept_of != np.arange(n))
    same = (label[copy] >= 0) & (label[copy] == label[source])
    copy_removed = removed[copy] | removed[source]
    recall = float(np.mean(same & copy_removed)) if len(copy) else 1.0
    pos = np.flatnonzero(removed)
    ok = (group[pos] >= 0) & (group[pos] == group[kept_of[pos]])
    precision = float(ok.mean()) if len(pos) else 1.0
    return {"recall": recall, "precision": precision, "removed": int(len(pos))}


def run_ours_kernel(path: Path, truth: Path) -> dict[str, float]:
    from studio.engine.dedup.clusters import choose_kept
    from studio.engine.dedup.minhash import near_duplicates

    texts = pl.read_parquet(path, columns=["output"])["output"]
    start, cpu = time.perf_counter(), time.process_time()
    found = near_duplicates(texts)
    found.kept = choose_kept(found.label, None, found.ids)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    result = score(found.label, found.kept_of(), pl.read_parquet(truth))
    result["seconds"] = seconds
    result["cpu_s"] = cpu
    return result


def vm_hwm_mb() -> float:
    """This process's peak RSS since its last exec (VmHWM; `ru_maxrss` would also count the
    parent's pages inherited at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_child(argv: list[str]) -> tuple[float, float, str, float]:
    """(wall seconds, peak RSS MB, stdout, CPU seconds) of one child process. The child
    prints its own VmHWM as the last stdout line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, text=True
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} exited with status {status}")
    lines = out.strip().splitlines()
    peak = float(json.loads(lines[-1])["vm_hwm_mb"])
    return wall, peak, "\n".join(lines[:-1]), usage.ru_utime + usage.ru_stime


def score_clusters_file(clusters: Path, n: int, truth: Path) -> dict[str, float]:
    """Recall/precision from `studio dedup --clusters` (member and kept `_id`s, which are row
    positions for a single parquet file)."""
    label = np.full(n, -1, dtype=np.int64)
    kept_of = np.full(n, -1, dtype=np.int64)
    for c, line in enumerate(clusters.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        members = np.array(row["member_ids"], dtype=np.int64)
        label[members] = c
        kept_of[members] = -1 if row["kept_id"] is None else int(row["kept_id"])
    return score(label, kept_of, pl.read_parquet(truth))


def ours_cli(path: Path, runs: int, truth: Path | None = None) -> dict[str, object]:
    """`studio dedup --mode near` as a whole process, `runs` times; the first run also writes
    `--clusters`, scored against the planted copies (the cluster file costs ~0.1 s per 50k
    clusters, so it is left out of the timed runs after the first)."""
    walls, rss, cpus = [], [], []
    quality: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.parquet"
        clusters = Path(tmp) / "clusters.jsonl"
        argv = [
            sys.executable, "-m", "benchmarks.bench_dedup", "--child-cli", "dedup", str(path),
            "--column", "output", "--mode", "near", "-o", str(out), "--force",
        ]  # fmt: skip
        if truth is not None:
            wall, peak, _, cpu = peak_child([*argv, "--clusters", str(clusters)])
            n = pl.scan_parquet(path).select(pl.len()).collect().item()
            quality = score_clusters_file(clusters, n, truth)
            quality["with_clusters_file_s"] = wall
            quality["with_clusters_file_cpu_s"] = cpu
        for _ in range(runs):
            wall, peak, _, cpu = peak_child(argv)
            walls.append(wall)
            rss.append(peak)
            cpus.append(cpu)
    return {
        "median_s": statistics.median(walls),
        "runs_s": walls,
        "median_cpu_s": statistics.median(cpus),
        "cpu_runs_s": cpus,
        "peak_rss_mb": max(rss),
        **quality,
    }


def normalized_bench(path: Path, runs: int) -> dict[str, object]:
    from studio.engine.dedup.exact import (
        blank_rows,
        exact_duplicates,
        normalized_keys,
        reference_normalized_keys,
    )

    frame = pl.read_parquet(path, columns=["output"])
    texts = frame["output"]
    ours, peer, ours_cpu, peer_cpu, ref, ref_cpu = [], [], [], [], [], []
    kept_ours = kept_peer = 0
    same = True
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        # what the dedup.normalized step does: keys, then rows without text left out
        found = exact_duplicates(normalized_keys(texts), blank=blank_rows(frame, ["output"]))
        kept_ours = int(len(texts) - (found.label >= 0).sum() + found.count)
        ours.append(time.perf_counter() - start)
        ours_cpu.append(time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        key = (
            texts.str.normalize("NFKC")
            .str.to_lowercase()
            .str.replace_all(r"[[:punct:]]+", " ")
            .str.replace_all(r"\s+", " ")
            .str.strip_chars()
        )
        kept_peer = int(key.is_first_distinct().sum())
        peer.append(time.perf_counter() - start)
        peer_cpu.append(time.process_time() - cpu)
        # the plain definition (normalize every row, then hash): the cheap-key path's reference
        start, cpu = time.perf_counter(), time.process_time()
        plain = exact_duplicates(
            reference_normalized_keys(texts), blank=blank_rows(frame, ["output"])
        )
        ref.append(time.perf_counter() - start)
        ref_cpu.append(time.process_time() - cpu)
        same = same and bool(np.array_equal(plain.label, found.label))
    return {
        "rows": len(texts),
        "ours_median_s": statistics.median(ours),
        "ours_runs_s": ours,
        "ours_median_cpu_s": statistics.median(ours_cpu),
        "polars_regex_median_cpu_s": statistics.median(peer_cpu),
        "polars_regex_median_s": statistics.median(peer),
        "polars_regex_runs_s": peer,
        "normalize_all_rows_median_s": statistics.median(ref),
        "normalize_all_rows_median_cpu_s": statistics.median(ref_cpu),
        "same_clusters_as_normalize_all_rows": same,
        "kept_ours": kept_ours,
        "kept_polars": kept_peer,
    }


# -- peers (each run in its own process) ----------------------------------------------------------
def _shingles(text: str) -> list[str]:
    toks = text.lower().split()
    return [" ".join(toks[i : i + 3]) for i in range(max(len(toks) - 2, 1))]


def peer_main(name: str, path: str, truth: str, threshold: float) -> None:
    texts = pl.read_parquet(path, columns=["output"])["output"].to_list()
    start = time.perf_counter()
    pairs: list[tuple[int, int]] = []
    if name == "datasketch":
        from datasketch import MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=128)
        for i, text in enumerate(texts):
            m = MinHash(num_perm=128, seed=1)
            m.update_batch([s.encode() for s in _shingles(text)])
            for j in lsh.query(m):
                pairs.append((j, i))
            lsh.insert(i, m)
    else:
        from rensa import RMinHash, RMinHashLSH

        lsh = RMinHashLSH(threshold=threshold, num_perm=128, num_bands=16)
        for i, text in enumerate(texts):
            m = RMinHash(num_perm=128, seed=1)
            m.update(_shingles(text))
            for j in lsh.query(m):
                pairs.append((j, i))
            lsh.insert(i, m)
    seconds = time.perf_counter() - start
    cpu = time.process_time()
    # clusters by components; keep the first row of each, like ours
    from studio.engine.dedup.clusters import choose_kept, labels_from_pairs

    n = len(texts)
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    label = labels_from_pairs(n, arr[:, 0], arr[:, 1])
    kept = choose_kept(label, None, np.arange(n, dtype=np.uint64))
    kept_of = np.full(n, -1, dtype=np.int64)
    kept_of[label >= 0] = kept[label[label >= 0]]
    result = score(label, kept_of, pl.read_parquet(truth))
    result["seconds"] = seconds
    result["cpu_s"] = cpu
    print(json.dumps(result))
    print(json.dumps({"vm_hwm_mb": vm_hwm_mb()}))


def peer(name: str, path: Path, truth: Path, runs: int, threshold: float) -> dict[str, object]:
    walls, rss, results, cpus = [], [], [], []
    for _ in range(runs):
        argv = [
            sys.executable, "-m", "benchmarks.bench_dedup", "--peer", name, "--peer-path",
            str(path), "--peer-truth", str(truth), "--peer-threshold", str(threshold),
        ]  # fmt: skip
        wall, peak, out, cpu = peak_child(argv)
        walls.append(wall)
        rss.append(peak)
        cpus.append(cpu)
        results.append(json.loads(out.strip().splitlines()[-1]))
    return {
        "median_s": statistics.median(walls),
        "runs_s": walls,
        "median_cpu_s": statistics.median(cpus),
        "peak_rss_mb": max(rss),
        "recall": results[0]["recall"],
        "precision": results[0]["precision"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000)
    parser.add_argument("--peer-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-runs", type=int, default=3)
    parser.add_argument("--data-dir", default=str(ROOT / "benchmarks" / "data"))
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-ours", action="store_true", help="only the peers part")
    parser.add_argument("--kernel", action="store_true", help="also time the kernel in process")
    parser.add_argument("--peer", choices=("datasketch", "rensa"))
    parser.add_argument("--peer-path")
    parser.add_argument("--peer-truth")
    parser.add_argument("--peer-threshold", type=float, default=0.8)
    parser.add_argument("--json", help="also write the results here")
    if len(sys.argv) > 1 and sys.argv[1] == "--child-cli":
        from studio.cli import main as studio_main

        code = studio_main(sys.argv[2:])
        print(json.dumps({"vm_hwm_mb": vm_hwm_mb()}))
        raise SystemExit(code)
    args = parser.parse_args()
    if args.peer:
        peer_main(args.peer, args.peer_path, args.peer_truth, args.peer_threshold)
        return
    data_dir = Path(args.data_dir)
    report: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}",
        "threads": __import__("studio.engine.dedup.text", fromlist=["WORKERS"]).WORKERS,
        "python": platform.python_version(),
        "polars": pl.__version__,
    }
    if not args.skip_ours:
        big, big_truth = dataset(args.rows, data_dir)
        small, small_truth = dataset(args.small_rows, data_dir)
        report["ours_small_cli"] = ours_cli(small, args.runs, small_truth)
        print("ours small", report["ours_small_cli"], flush=True)
        report["ours_big_cli"] = ours_cli(big, args.runs, big_truth)
        print("ours big", report["ours_big_cli"], flush=True)
        report["normalized"] = normalized_bench(big, args.runs)
        print("normalized", report["normalized"], flush=True)
        if args.kernel:
            report["quality_1M_kernel"] = run_ours_kernel(big, big_truth)
            print("kernel", report["quality_1M_kernel"], flush=True)
    if not args.skip_peers:
        peer_path, peer_truth = dataset(args.peer_rows, data_dir)
        report["ours_peer_rows_kernel"] = run_ours_kernel(peer_path, peer_truth)
        for name, threshold in (("datasketch", 0.8), ("rensa", 0.8)):
            key = f"{name}@{threshold}"
            report[key] = peer(name, peer_path, peer_truth, args.peer_runs, threshold)
            print(key, report[key], flush=True)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
