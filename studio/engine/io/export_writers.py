"""Streaming writers for the export formats, and an all-or-nothing group of output files.

Every writer takes batches (polars DataFrames of the final records, no `_id`) and writes them
into a temporary path the `OutputGroup` gave it; `sync()` fsyncs it; nothing appears under its
final name until `OutputGroup.commit()` renames every file at the end. A failure or a cancel
before that removes every temporary file and folder (`rollback`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

import polars as pl

from studio.engine.errors import WriteError
from studio.engine.io.writers import _flat

HF_DATA_FILE = "data-00000-of-00001.arrow"


# -- serialisation shared by the writers and the preview -------------------------------------
def ndjson_bytes(batch: pl.DataFrame) -> bytes:
    """The JSON Lines text of a batch, as written to .jsonl files."""
    return batch.write_ndjson().encode("utf-8")


def csv_bytes(batch: pl.DataFrame, *, header: bool) -> bytes:
    """The CSV text of a batch; nested values become JSON text."""
    return _flat(batch).write_csv(include_header=header).encode("utf-8")


# -- writers ---------------------------------------------------------------------------------
class BatchWriter:
    """Open on a temporary path; `write(batch)` per batch; `close()` when done."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.rows = 0

    def write(self, batch: pl.DataFrame) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file (footer, metadata). Called only on success."""

    def sync(self) -> None:
        """fsync what was written (may run in another thread while the card is computed)."""
        paths = sorted(self.tmp.rglob("*")) if self.tmp.is_dir() else [self.tmp]
        for path in paths:
            if path.is_file():
                _fsync(path)

    def abort(self) -> None:
        """Release handles after a failure (the group deletes the files)."""
        self.close_handles()

    def close_handles(self) -> None:
        handle: IO[bytes] | None = getattr(self, "handle", None)
        if handle is not None and not handle.closed:
            handle.close()


class JsonlWriter(BatchWriter):
    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.handle: IO[bytes] = open(tmp, "wb")  # noqa: SIM115

    def write(self, batch: pl.DataFrame) -> None:
        batch.write_ndjson(self.handle)
        self.rows += batch.height

    def close(self) -> None:
        self.handle.close()


class JsonArrayWriter(BatchWriter):
    """A JSON array of objects (LLaMA-Factory's usual .json files), written line by line."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.handle: IO[bytes] = open(tmp, "wb")  # noqa: SIM115
        self.handle.write(b"[")

    def write(self, batch: pl.DataFrame) -> None:
        for line in ndjson_bytes(batch).splitlines():
            self.handle.write(b"\n" if self.rows == 0 else b",\n")
            self.handle.write(line)
            self.rows += 1

    def close(self) -> None:
        self.handle.write(b"\n]\n")
        self.handle.close()


class CsvWriter(BatchWriter):
    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.handle: IO[bytes] = open(tmp, "wb")  # noqa: SIM115

    def write(self, batch: pl.DataFrame) -> None:
        self.handle.write(csv_bytes(batch, header=self.rows == 0 and batch.width > 0))
        self.rows += batch.height

    def close(self) -> None:
        self.handle.close()


class ParquetWriter(BatchWriter):
    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.writer: Any = None

    def write(self, batch: pl.DataFrame) -> None:
        import pyarrow.parquet as pq

        # string views pass to pyarrow without a copy (the default export converts them)
        table = batch.to_arrow(compat_level=pl.CompatLevel.newest())
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd")
        self.writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows += batch.height

    def close(self) -> None:
        if self.writer is None:
            pl.DataFrame().write_parquet(self.tmp)
            return
        self.writer.close()

    def abort(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()


class HfWriter(BatchWriter):
    """A `datasets.Dataset.save_to_disk` folder: one Arrow IPC *stream* file, the dataset's
    info and state (features are left to `datasets` to infer from the Arrow schema)."""

    def __init__(self, tmp: Path, *, split: str | None = None, description: str = "") -> None:
        super().__init__(tmp)
        tmp.mkdir(parents=True, exist_ok=True)
        self.split = split
        self.description = description
        self.sink: Any = None
        self.stream: Any = None
        self.hash = hashlib.sha256()

    def write(self, batch: pl.DataFrame) -> None:
        import pyarrow as pa

        table = batch.to_arrow()
        if self.stream is None:
            self.sink = pa.OSFile(str(self.tmp / HF_DATA_FILE), "wb")
            self.stream = pa.ipc.new_stream(self.sink, table.schema)
        self.stream.write_table(table)
        self.rows += batch.height
        self.hash.update(str(self.rows).encode())

    def close(self) -> None:
        import pyarrow as pa

        if self.stream is None:
            self.sink = pa.OSFile(str(self.tmp / HF_DATA_FILE), "wb")
            self.stream = pa.ipc.new_stream(self.sink, pa.schema([]))
        self.stream.close()
        self.sink.close()
        info = {
            "citation": "",
            "description": self.description,
            "features": None,
            "homepage": "",
            "license": "",
        }
        state = {
            "_data_files": [{"filename": HF_DATA_FILE}],
            "_fingerprint": self.hash.hexdigest()[:16],
            "_format_columns": None,
            "_format_kwargs": {},
            "_format_type": None,
            "_output_all_columns": False,
            "_split": self.split,
        }
        write_json(self.tmp / "dataset_info.json", info)
        write_json(self.tmp / "state.json", state)

    def abort(self) -> None:
        for closer in (self.stream, self.sink):
            if closer is not None:
                with contextlib.suppress(Exception):
                    closer.close()


def write_json(path: Path, data: object) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- the group -------------------------------------------------------------------------------
class OutputGroup:
    """Temporary files and folders that become the final outputs together, or not at all."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def file(self, final: Path) -> Path:
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
        tmp = Path(name)
        self._pending.append((tmp, final))
        return tmp

    def folder(self, final: Path) -> Path:
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
        self._pending.append((tmp, final))
        return tmp

    def text(self, final: Path, text: str) -> None:
        tmp = self.file(final)
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    @property
    def temporaries(self) -> list[Path]:
        return [tmp for tmp, _ in self._pending]

    def commit(self) -> list[Path]:
        """Move every temporary onto its final name (replacing old outputs)."""
        done: list[Path] = []
        for tmp, final in self._pending:
            if tmp.is_dir():
                old: Path | None = None
                if final.exists():
                    old = final.with_name(f".{final.name}.old-{os.getpid()}")
                    if old.exists():
                        shutil.rmtree(old) if old.is_dir() else old.unlink()
                    final.rename(old)
                os.replace(tmp, final)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
            else:
                if final.is_dir():
                    raise WriteError(f"{final} is a folder; choose another output.")
                os.replace(tmp, final)
            _fsync_dir(final.parent)
            done.append(final)
        self._pending.clear()
        return done

    def rollback(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(OSError):
                if tmp.is_dir():
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    tmp.unlink()
        self._pending.clear()
