"""Parquet, Arrow IPC / Feather, and Hugging Face `save_to_disk` folders.

Parquet and Arrow IPC files are scanned lazily: the row count comes from the file's metadata
and no text is read until a view asks for rows.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl

from studio.engine.dataset import Problem
from studio.engine.errors import LoadError
from studio.engine.io.part import Part
from studio.engine.io.source import read_bytes, read_head


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_parquet(path: Path, compression: str | None, options: dict[str, object]) -> Part:
    name = path.name
    problems: list[Problem] = []
    scan = None
    try:
        if compression is not None:
            frame = pl.read_parquet(io.BytesIO(read_bytes(path, compression, problems))).lazy()
        else:
            if not read_head(path, 4).startswith(b"PAR1"):
                raise LoadError(f"{name}: not a Parquet file (it lacks the PAR1 signature).")
            frame = pl.scan_parquet(path)
            scan = "parquet"
        frame.collect_schema()
        rows = int(frame.select(pl.len()).collect().item())
        if compression is None:
            # a fresh scan: in polars 2.1 a scan whose schema was collected no longer pushes
            # later slices down into the reader, so every table window would decode the file
            frame = pl.scan_parquet(path)
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"{name}: cannot be read as Parquet ({_first_line(exc)}).") from exc
    return Part(frame, rows, "parquet", problems, scan=scan)


def read_ipc(path: Path, compression: str | None, options: dict[str, object]) -> Part:
    """Arrow IPC file (Feather v2), Arrow IPC stream (what `datasets` writes) or Feather v1."""
    name = path.name
    problems: list[Problem] = []
    scan = None
    try:
        if compression is not None:
            data = read_bytes(path, compression, problems)
            frame = _ipc_from_bytes(data)
        else:
            head = read_head(path, 8)
            if head.startswith(b"ARROW1"):
                frame = pl.scan_ipc(path)
                scan = "ipc"
            elif head.startswith(b"FEA1"):
                import pyarrow.feather as feather

                frame = pl.from_arrow(feather.read_table(path)).lazy()  # type: ignore[union-attr]
            else:
                frame = _ipc_stream(path)
        frame.collect_schema()
        rows = int(frame.select(pl.len()).collect().item())
        if compression is None and head.startswith(b"ARROW1"):
            frame = pl.scan_ipc(path)  # fresh, as for Parquet: keep slice pushdown
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(
            f"{name}: cannot be read as Arrow IPC / Feather ({_first_line(exc)})."
        ) from exc
    return Part(frame, rows, "arrow", problems, scan=scan)


def _ipc_from_bytes(data: bytes) -> pl.LazyFrame:
    if data.startswith(b"ARROW1"):
        return pl.read_ipc(io.BytesIO(data)).lazy()
    return pl.read_ipc_stream(io.BytesIO(data)).lazy()


def _ipc_stream(path: Path) -> pl.LazyFrame:
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_stream(source).read_all()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.lazy()


def is_hf_folder(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and any(path.glob("*.arrow"))
    )


def read_hf(path: Path, options: dict[str, object]) -> Part:
    """A folder written by `datasets.Dataset.save_to_disk` (or a `DatasetDict`: one split)."""
    problems: list[Problem] = []
    folder = path
    if (path / "dataset_dict.json").is_file():
        try:
            splits = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8"))["splits"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LoadError(f"{path}: its dataset_dict.json cannot be read.") from exc
        wanted = options.get("split")
        if wanted is not None and wanted not in splits:
            raise LoadError(f"{path}: no split named {wanted!r} (splits: {', '.join(splits)}).")
        split = str(wanted) if wanted is not None else ("train" if "train" in splits else splits[0])
        if wanted is None and len(splits) > 1:
            others = ", ".join(s for s in splits if s != split)
            problems.append(
                Problem(
                    path.name, None, f"opened the {split!r} split; also there: {others} (split=...)"
                )
            )
        folder = path / split
    try:
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        files = [folder / f["filename"] for f in state["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LoadError(f"{folder}: its state.json cannot be read.") from exc
    frames = []
    for file in files:
        try:
            frames.append(_ipc_stream(file))
        except Exception as exc:
            raise LoadError(f"{file}: cannot be read as Arrow ({_first_line(exc)}).") from exc
    frame = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
    rows = int(frame.select(pl.len()).collect().item())
    return Part(frame, rows, "hf", problems)
