"""Reading raw input: format from name or magic bytes, decompression, text decoding.

Text decoding policy (`decode_text`): a UTF-8 or UTF-16 byte-order mark is honoured; valid UTF-8
is kept as is; UTF-8 with a few invalid bytes keeps its rows, with the bad bytes replaced and a
problem per line; a file with no valid UTF-8 beyond ASCII is read as Windows-1252 (cp1252, a
superset of latin-1 for printable text) with a warning problem. An explicit `encoding=` wins.
"""

from __future__ import annotations

import bz2
import codecs
import lzma
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from studio.engine.dataset import Problem
from studio.engine.errors import LoadError

if TYPE_CHECKING:
    import numpy as np  # numpy is imported where used: it costs start-up time

TEXT_FORMATS = ("jsonl", "json", "csv", "tsv")
BINARY_FORMATS = ("parquet", "ipc")
FORMATS = (*TEXT_FORMATS, *BINARY_FORMATS, "hf")

EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
}
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2"}
COMPRESSIONS[".xz"] = "xz"

FORMAT_ALIASES = {
    "ndjson": "jsonl",
    "jsonlines": "jsonl",
    "arrow": "ipc",
    "feather": "ipc",
    "huggingface": "hf",
    "datasets": "hf",
}

_MAGIC = (
    (b"PAR1", "parquet"),
    (b"ARROW1", "ipc"),
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"SQLite format 3", "sqlite"),
)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

SUPPORTED = ".jsonl .ndjson .json .csv .tsv .parquet .arrow .feather (optionally .gz .zst .bz2 .xz)"


def magic_of(head: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def split_name(path: Path) -> tuple[str | None, str | None]:
    """(format, compression) from a file name such as `x.jsonl.gz`; None when unknown."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = None
    if suffixes and suffixes[-1] in COMPRESSIONS:
        compression = COMPRESSIONS[suffixes.pop()]
    fmt = EXTENSIONS.get(suffixes[-1]) if suffixes else None
    return fmt, compression


def normalize_format(name: str) -> str:
    key = name.lower().lstrip(".")
    key = FORMAT_ALIASES.get(key, key)
    if key not in FORMATS:
        raise LoadError(f"Unknown format {name!r}: use one of {', '.join(FORMATS)}.")
    return key


def read_head(path: Path, size: int = 8192) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except PermissionError as exc:
        raise LoadError(f"{path}: cannot read the file (permission denied).") from exc
    except IsADirectoryError as exc:
        raise LoadError(f"{path}: is a folder, not a file.") from exc
    except OSError as exc:
        raise LoadError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc


def read_bytes(path: Path, compression: str | None, problems: list[Problem]) -> bytes:
    """The file's bytes, decompressed. A truncated gzip keeps what was readable (a problem)."""
    try:
        raw = path.read_bytes()
    except PermissionError as exc:
        raise LoadError(f"{path}: cannot read the file (permission denied).") from exc
    except OSError as exc:
        raise LoadError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
    if compression is None:
        return raw
    try:
        if compression == "gzip":
            return _gunzip(path, raw, problems)
        if compression == "zstd":
            import zstandard

            with zstandard.ZstdDecompressor().stream_reader(raw) as reader:
                return reader.read()
        if compression == "bz2":
            return bz2.decompress(raw)
        if compression == "xz":
            return lzma.decompress(raw)
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"{path}: not a valid {compression} file ({exc}).") from exc
    raise LoadError(f"{path}: unsupported compression {compression}.")


def _gunzip(path: Path, raw: bytes, problems: list[Problem]) -> bytes:
    if not raw.startswith(b"\x1f\x8b"):
        raise LoadError(f"{path}: not a gzip file although its name ends in .gz.")
    out: list[bytes] = []
    data = raw
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            out.append(inflater.decompress(data))
        except zlib.error as exc:
            if not out:
                raise LoadError(f"{path}: not a valid gzip file ({exc}).") from exc
            problems.append(
                Problem(path.name, None, f"corrupt gzip data ({exc}); kept what came before it")
            )
            break
        if not inflater.eof:
            out.append(inflater.flush())
            problems.append(
                Problem(
                    path.name,
                    None,
                    "the gzip data ends early (truncated file); read what was there",
                )
            )
            break
        data = inflater.unused_data  # concatenated gzip members
    return b"".join(out)


def has_bom(head: bytes) -> bool:
    return any(head.startswith(bom) for bom, _ in _BOMS)


def looks_binary(head: bytes) -> bool:
    """NUL bytes in the first block of a text file (UTF-16/32 with a BOM is text)."""
    if any(head.startswith(bom) for bom, enc in _BOMS if enc != "utf-8"):
        return False
    return b"\x00" in head[:8192]


@dataclass
class Text:
    """UTF-8 bytes ready for polars, and the problems met while decoding."""

    data: bytes
    encoding: str
    problems: list[Problem] = field(default_factory=list)


_BAD = re.compile("[\udc80-\udcff]+")


def decode_text(raw: bytes, name: str, encoding: str | None = None) -> Text:
    """Return UTF-8 bytes (BOM removed) following the module's decoding policy."""
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError as exc:
            raise LoadError(f"Unknown encoding {encoding!r}.") from exc
        if codec == "utf-8" and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        text = raw.decode(codec, errors="replace")
        return Text(text.encode("utf-8"), codec)
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            if codec == "utf-8":
                return _utf8(raw[len(bom) :], name, "utf-8-sig")
            text = raw.decode(codec, errors="replace")
            return Text(text.encode("utf-8"), codec)
    return _utf8(raw, name, "utf-8")


def _utf8(raw: bytes, name: str, label: str) -> Text:
    import numpy as np

    try:
        raw.decode("utf-8")
        return Text(raw, label)
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="surrogateescape")
    bad = list(_BAD.finditer(text))
    bad_bytes = sum(m.end() - m.start() for m in bad)
    high_bytes = int(np.count_nonzero(np.frombuffer(raw, dtype=np.uint8) >= 0x80))
    good_high = high_bytes - bad_bytes
    if good_high == 0 or bad_bytes > good_high:
        # No real UTF-8 beyond ASCII here: a legacy 8-bit file. cp1252 leaves five bytes
        # undefined; those map to the latin-1 control characters.
        legacy = raw.decode("cp1252", errors="surrogateescape")
        legacy = _BAD.sub(lambda m: "".join(chr(ord(c) - 0xDC00) for c in m.group()), legacy)
        first = text.count("\n", 0, bad[0].start()) + 1
        problem = Problem(
            name,
            first,
            "not UTF-8: read as Windows-1252 (cp1252); pass encoding=... if that is wrong",
        )
        return Text(legacy.encode("utf-8"), "cp1252", [problem])
    lines = line_numbers_of(text, [m.start() for m in bad])
    problems = [
        Problem(name, line, "invalid UTF-8 bytes (replaced with U+FFFD)")
        for line in sorted(set(lines))
    ]
    fixed = _BAD.sub(lambda m: "\ufffd" * (m.end() - m.start()), text)
    return Text(fixed.encode("utf-8"), label, problems)


def line_numbers_of(text: str, offsets: list[int]) -> list[int]:
    """1-based line numbers of character offsets in `text`."""
    import numpy as np

    if not offsets:
        return []
    newlines = np.array([m.start() for m in re.finditer("\n", text)], dtype=np.int64)
    return [int(v) + 1 for v in np.searchsorted(newlines, np.asarray(offsets), side="left")]


def count_lines(data: bytes | memoryview | np.ndarray, chunk: int = 1 << 24) -> int:
    """Number of lines (a last line without a newline counts)."""
    import numpy as np

    arr = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    total = 0
    for start in range(0, len(arr), chunk):
        total += int(np.count_nonzero(arr[start : start + chunk] == 10))
    if len(arr) and arr[-1] != 10:
        total += 1
    return total


def count_file_lines(path: Path) -> int:
    """Number of lines in a file, blank ones included (polars' native row counter)."""
    import polars as pl

    try:
        scan = pl.scan_csv(path, has_header=False, separator="\x1f", quote_char=None)
        return int(scan.select(pl.len()).collect().item())
    except Exception:
        pass
    import mmap

    import numpy as np

    with open(path, "rb") as handle:
        if path.stat().st_size == 0:
            return 0
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            arr = np.frombuffer(mm, dtype=np.uint8)
            try:
                return count_lines(arr)
            finally:
                del arr


def line_spans(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, without the newline) byte offsets of every line."""
    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8)
    parts = []
    for start in range(0, len(arr), 1 << 24):
        parts.append(np.flatnonzero(arr[start : start + (1 << 24)] == 10) + start)
    newlines = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    ends = newlines
    if len(arr) and arr[-1] != 10:
        ends = np.append(ends, len(arr))
    starts = np.concatenate(([0], newlines + 1))[: len(ends)]
    return starts.astype(np.int64), ends.astype(np.int64)


def blank_lines(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Boolean mask of lines holding only whitespace."""
    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8)
    blank = ends <= starts
    ws = np.array([32, 9, 13, 11, 12], dtype=np.uint8)
    candidates = np.flatnonzero(~blank)
    if len(candidates):
        first = arr[starts[candidates]]
        maybe = candidates[np.isin(first, ws)]
        for i in maybe:
            if not data[starts[i] : ends[i]].strip():
                blank[i] = True
    return blank
