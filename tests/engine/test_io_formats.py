"""Every loader and format: rows, columns, source lines, options."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import polars as pl
import pytest
import zstandard

from studio.engine.dataset import Dataset
from studio.engine.errors import LoadError
from studio.engine.io import load_dataset
from studio.engine.steps.base import ID

ROWS = [{"text": f"row number {i}", "label": ["a", "b"][i % 2]} for i in range(5)]
JSONL = "".join(json.dumps(r) + "\n" for r in ROWS)


def _values(ds: Dataset, column: str = "text") -> list[object]:
    return ds.frame.collect()[column].to_list()


def _sources(ds: Dataset) -> list[str]:
    return [ds.source_of(i) for i in range(ds.rows)]


def test_jsonl_reads_lines_in_order_with_ids(write_file) -> None:
    ds = load_dataset(write_file("d.jsonl", JSONL))
    frame = ds.frame.collect()
    assert ds.format == "jsonl" and ds.rows == 5
    assert frame.columns[0] == ID and frame[ID].dtype == pl.UInt64
    assert frame[ID].to_list() == [0, 1, 2, 3, 4]
    assert _values(ds) == [r["text"] for r in ROWS]
    assert ds.problems == []
    assert ds.origins[0].lines is None  # consecutive lines need no line array
    assert _sources(ds) == [f"d.jsonl:{i}" for i in range(1, 6)]


def test_ndjson_extension_and_crlf(write_file) -> None:
    ds = load_dataset(write_file("d.ndjson", JSONL.replace("\n", "\r\n")))
    assert _values(ds) == [r["text"] for r in ROWS]
    assert ds.problems == []


def test_jsonl_blank_lines_keep_true_line_numbers(write_file) -> None:
    lines = JSONL.splitlines()
    text = "\n".join([lines[0], "", lines[1], "   ", lines[2]]) + "\n"
    ds = load_dataset(write_file("d.jsonl", text))
    assert ds.rows == 3
    assert ds.problems == []
    assert _sources(ds) == ["d.jsonl:1", "d.jsonl:3", "d.jsonl:5"]


def test_jsonl_with_bom_and_no_final_newline(write_file) -> None:
    ds = load_dataset(write_file("d.jsonl", b"\xef\xbb\xbf" + JSONL.rstrip("\n").encode()))
    assert _values(ds) == [r["text"] for r in ROWS]
    assert ds.problems == []


def test_jsonl_nested_columns_keep_their_types(write_file) -> None:
    row = {"messages": [{"role": "user", "content": "hi"}], "meta": {"n": 1}}
    ds = load_dataset(write_file("d.jsonl", json.dumps(row) + "\n"))
    schema = ds.frame.collect_schema()
    assert isinstance(schema["messages"], pl.List)
    assert isinstance(schema["meta"], pl.Struct)


def test_jsonl_type_conflict_after_first_rows_still_loads(write_file) -> None:
    rows = [{"n": i, "text": "x"} for i in range(150)] + [{"n": "many", "text": "y"}]
    ds = load_dataset(write_file("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows)))
    assert ds.rows == 151
    assert ds.frame.collect()["n"].to_list()[-1] == "many"


def test_json_array_rows_and_lines(write_file) -> None:
    path = write_file("d.json", json.dumps(ROWS, indent=1))
    ds = load_dataset(path)
    assert ds.format == "json" and ds.rows == 5
    assert _values(ds) == [r["text"] for r in ROWS]
    # indent=1 puts each object's opening brace on line 2 + 4 * i
    assert _sources(ds) == [f"d.json:{2 + 4 * i}" for i in range(5)]


def test_json_object_holding_one_array(write_file) -> None:
    ds = load_dataset(write_file("d.json", json.dumps({"version": 1, "data": ROWS})))
    assert _values(ds) == [r["text"] for r in ROWS]


def test_json_extension_holding_json_lines(write_file) -> None:
    ds = load_dataset(write_file("d.json", JSONL))
    assert ds.rows == 5 and ds.format == "json"
    assert _sources(ds)[-1] == "d.json:5"


def test_csv_with_header_quotes_and_types(write_file) -> None:
    text = 'text,label,score\n"hello, world",a,1\n"she said ""hi""",b,2\nplain,a,3\n'
    ds = load_dataset(write_file("d.csv", text))
    frame = ds.frame.collect()
    assert ds.format == "csv" and ds.rows == 3
    assert frame["text"].to_list() == ["hello, world", 'she said "hi"', "plain"]
    assert frame["score"].dtype == pl.Int64
    assert _sources(ds) == ["d.csv:2", "d.csv:3", "d.csv:4"]


def test_csv_multiline_field_and_crlf_keep_line_numbers(write_file) -> None:
    text = 'text,label\r\n"two\r\nlines",a\r\nnext,b\r\n'
    ds = load_dataset(write_file("d.csv", text))
    assert _values(ds) == ["two\r\nlines", "next"]
    assert _sources(ds) == ["d.csv:2", "d.csv:4"]


@pytest.mark.parametrize(("sep", "name"), [("\t", "d.csv"), (";", "d.csv"), ("|", "d.txt.csv")])
def test_csv_separator_sniffing(write_file, sep: str, name: str) -> None:
    lines = [f"text{sep}label"] + [f"a sentence, with commas {i}{sep}l{i % 2}" for i in range(6)]
    ds = load_dataset(write_file(name, "\n".join(lines) + "\n"))
    assert ds.columns == ["text", "label"]
    assert _values(ds)[0] == "a sentence, with commas 0"


def test_tsv_extension_means_tab(write_file) -> None:
    ds = load_dataset(write_file("d.tsv", "text\tlabel\nx, y\ta\nz\tb\n"))
    assert ds.format == "tsv"
    assert _values(ds) == ["x, y", "z"]


def test_csv_without_header_is_detected_and_overridable(write_file) -> None:
    text = "I liked it,positive\nI hated it,negative\nso so,positive\nfine,neutral\n"
    path = write_file("d.csv", text)
    ds = load_dataset(path)
    assert ds.columns == ["column_1", "column_2"] and ds.rows == 4
    assert _sources(ds)[0] == "d.csv:1"
    forced = load_dataset(path, has_header=True)
    assert forced.columns == ["I liked it", "positive"] and forced.rows == 3
    assert forced.options == {"has_header": True}


def test_csv_explicit_separator_option(write_file) -> None:
    path = write_file("d.csv", "a;b\n1;2\n")
    assert load_dataset(path, separator=";").columns == ["a", "b"]
    assert load_dataset(path, separator=",").columns == ["a;b"]


def test_csv_utf8_bom(write_file) -> None:
    ds = load_dataset(write_file("d.csv", "\ufefftext,label\ncafé,a\n".encode("utf-8-sig")[3:]))
    ds2 = load_dataset(write_file("e.csv", "text,label\ncafé,a\n".encode("utf-8-sig")))
    assert ds.columns == ["text", "label"] and ds2.columns == ["text", "label"]
    assert _values(ds2) == ["café"] and ds2.problems == []


def test_latin1_csv_falls_back_with_a_warning(write_file) -> None:
    ds = load_dataset(write_file("d.csv", "text,label\nna\xefve caf\xe9,a\n".encode("cp1252")))
    assert _values(ds) == ["naïve café"]
    assert len(ds.problems) == 1
    assert ds.problems[0].file == "d.csv" and ds.problems[0].line == 2
    assert "cp1252" in ds.problems[0].reason


def test_explicit_encoding_option(write_file) -> None:
    path = write_file("d.csv", "text,label\n\u0436\u0443\u043a,a\n".encode("koi8_r"))
    ds = load_dataset(path, encoding="koi8_r")
    assert _values(ds) == ["\u0436\u0443\u043a"] and ds.problems == []


def test_utf16_with_bom(write_file) -> None:
    ds = load_dataset(write_file("d.jsonl", JSONL.encode("utf-16")))
    assert _values(ds) == [r["text"] for r in ROWS]


def test_parquet_is_lazy_with_metadata_row_count(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pl.DataFrame(ROWS).write_parquet(path, row_group_size=2)
    ds = load_dataset(path)
    assert ds.format == "parquet" and ds.rows == 5
    plan = ds.frame.explain()
    assert "parquet" in plan.lower()  # still a scan, nothing read yet
    assert _values(ds) == [r["text"] for r in ROWS]
    assert _sources(ds)[2] == "d.parquet:3"


def test_large_parquet_opens_without_reading_text(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    n = 300_000
    pl.DataFrame({"text": pl.repeat("x" * 200, n, eager=True), "n": range(n)}).write_parquet(path)
    ds = load_dataset(path)
    assert ds.rows == n
    assert "parquet" in ds.frame.explain().lower()
    last = ds.frame.slice(n - 1, 1).collect()
    assert last[ID].item() == n - 1 and last["n"].item() == n - 1


@pytest.mark.parametrize("ext", ["arrow", "feather", "ipc"])
def test_arrow_ipc_file(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"d.{ext}"
    pl.DataFrame(ROWS).write_ipc(path)
    ds = load_dataset(path)
    assert ds.format == "arrow" and _values(ds) == [r["text"] for r in ROWS]


def test_arrow_ipc_stream(tmp_path: Path) -> None:
    path = tmp_path / "d.arrow"
    pl.DataFrame(ROWS).write_ipc_stream(path)
    assert _values(load_dataset(path)) == [r["text"] for r in ROWS]


def test_hugging_face_save_to_disk_folder(tmp_path: Path) -> None:
    import datasets

    data = {"text": [r["text"] for r in ROWS], "label": [i % 2 for i in range(5)]}
    datasets.Dataset.from_dict(data).save_to_disk(str(tmp_path / "hf"), num_shards=2)
    ds = load_dataset(tmp_path / "hf")
    assert ds.format == "hf" and ds.rows == 5
    assert _values(ds) == data["text"]
    assert ds.shape.kind == "classification" and ds.shape.label == "label"
    assert ds.source_of(4) == "hf:5"


def test_hugging_face_dataset_dict_split(tmp_path: Path) -> None:
    import datasets

    train = datasets.Dataset.from_dict({"text": ["a", "b", "c"]})
    test = datasets.Dataset.from_dict({"text": ["z"]})
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(tmp_path / "dd"))
    ds = load_dataset(tmp_path / "dd")
    assert _values(ds) == ["a", "b", "c"]
    assert any("test" in p.reason for p in ds.problems)
    assert _values(load_dataset(tmp_path / "dd", split="test")) == ["z"]
    with pytest.raises(LoadError, match="no split named"):
        load_dataset(tmp_path / "dd", split="validation")


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [
        (".gz", gzip.compress),
        (".zst", lambda b: zstandard.ZstdCompressor().compress(b)),
        (".bz2", bz2.compress),
        (".xz", lzma.compress),
    ],
)
def test_compressed_text_files(tmp_path: Path, suffix: str, compress) -> None:  # noqa: ANN001
    (tmp_path / f"d.jsonl{suffix}").write_bytes(compress(JSONL.encode()))
    ds = load_dataset(tmp_path / f"d.jsonl{suffix}")
    assert ds.format == "jsonl" and _values(ds) == [r["text"] for r in ROWS]
    csv_text = "text,label\n" + "".join(f"{r['text']},{r['label']}\n" for r in ROWS)
    (tmp_path / f"d.csv{suffix}").write_bytes(compress(csv_text.encode()))
    ds = load_dataset(tmp_path / f"d.csv{suffix}")
    assert ds.format == "csv" and _values(ds) == [r["text"] for r in ROWS]
    assert _sources(ds)[0] == f"d.csv{suffix}:2"


def test_compressed_jsonl_with_a_bad_line(tmp_path: Path) -> None:
    body = JSONL + "{broken\n" + json.dumps({"text": "after", "label": "a"}) + "\n"
    (tmp_path / "d.jsonl.gz").write_bytes(gzip.compress(body.encode()))
    ds = load_dataset(tmp_path / "d.jsonl.gz")
    assert ds.rows == 6 and [p.line for p in ds.problems] == [6]
    assert ds.source_of(5) == "d.jsonl.gz:7"


def test_gzip_without_gz_name_is_detected(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_bytes(gzip.compress(JSONL.encode()))
    assert load_dataset(tmp_path / "d.jsonl").rows == 5


def test_truncated_gzip_keeps_what_was_readable(tmp_path: Path) -> None:
    body = "".join(json.dumps({"text": f"row {i} " + "x" * 50}) + "\n" for i in range(2000))
    packed = gzip.compress(body.encode())
    (tmp_path / "d.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    ds = load_dataset(tmp_path / "d.jsonl.gz")
    assert 0 < ds.rows < 2000
    assert any("truncated" in p.reason for p in ds.problems)


def _shards(folder: Path) -> None:
    folder.mkdir()
    for k in (1, 2, 10):
        rows = [{"text": f"s{k}-{i}", "label": "a"} for i in range(3)]
        (folder / f"part-{k}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_folder_of_shards_in_natural_order_with_per_shard_sources(tmp_path: Path) -> None:
    _shards(tmp_path / "shards")
    (tmp_path / "shards" / "README.md").write_text("not data")
    ds = load_dataset(tmp_path / "shards")
    assert ds.rows == 9 and len(ds.paths) == 3
    assert _values(ds)[:4] == ["s1-0", "s1-1", "s1-2", "s2-0"]
    assert ds.source_of(3) == "part-2.jsonl:1"
    assert ds.source_of(8) == "part-10.jsonl:3"
    assert ds.frame.collect()[ID].to_list() == list(range(9))


def test_glob_of_shards_and_problems_name_the_shard(tmp_path: Path) -> None:
    _shards(tmp_path / "shards")
    with open(tmp_path / "shards" / "part-2.jsonl", "a") as handle:
        handle.write("{oops\n" + json.dumps({"text": "late", "label": "b"}) + "\n")
    ds = load_dataset(str(tmp_path / "shards" / "part-*.jsonl"))
    assert ds.rows == 10
    assert [(p.file, p.line) for p in ds.problems] == [("part-2.jsonl", 4)]
    assert ds.source_of(6) == "part-2.jsonl:5"
    assert ds.source_of(7) == "part-10.jsonl:1"


def test_parquet_shards_stay_lazy(tmp_path: Path) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    for k in range(3):
        pl.DataFrame({"text": [f"{k}-{i}" for i in range(4)]}).write_parquet(
            folder / f"{k}.parquet"
        )
    ds = load_dataset(folder)
    assert ds.rows == 12 and ds.source_of(5) == "1.parquet:2"
    assert _values(ds)[4] == "1-0"


def test_mixed_folder_uses_the_main_format_and_says_so(tmp_path: Path) -> None:
    _shards(tmp_path / "shards")
    (tmp_path / "shards" / "info.csv").write_text("a,b\n1,2\n")
    ds = load_dataset(tmp_path / "shards")
    assert ds.rows == 9
    assert any("info.csv" in p.reason for p in ds.problems)


def test_format_option_reads_unknown_extension(write_file) -> None:
    path = write_file("d.data", "text,label\nx,a\n")
    with pytest.raises(LoadError, match="unsupported"):
        load_dataset(path)
    ds = load_dataset(path, format="csv")
    assert _values(ds) == ["x"] and ds.options == {"format": "csv"}


def test_unknown_extension_holding_json_lines_is_sniffed(write_file) -> None:
    assert load_dataset(write_file("d.txt", JSONL)).rows == 5


def test_options_are_recorded_and_reopen_identically(write_file) -> None:
    path = write_file("d.csv", "x;y\nhello there;a\nbye;b\n")
    options = {"separator": ";", "text": "x", "label": "y", "has_header": True}
    first = load_dataset(path, **options)
    assert first.options == options
    again = load_dataset(path, **json.loads(json.dumps(first.options)))
    assert again.shape == first.shape
    assert again.frame.collect().equals(first.frame.collect())


def test_unknown_option_is_a_load_error(write_file) -> None:
    with pytest.raises(LoadError, match="Unknown load option"):
        load_dataset(write_file("d.jsonl", JSONL), colour="red")


def test_one_line_json_array_numbers_rows(write_file) -> None:
    ds = load_dataset(write_file("d.json", json.dumps(ROWS)))
    assert _sources(ds) == [f"d.json:{i}" for i in range(1, 6)]


def test_format_option_on_a_folder_reads_only_that_format(tmp_path: Path) -> None:
    _shards(tmp_path / "shards")
    (tmp_path / "shards" / "notes.csv").write_text("a,b\n1,2\n")
    ds = load_dataset(tmp_path / "shards", format="jsonl")
    assert ds.rows == 9 and ds.problems == []


def test_headerless_csv_with_numbers(write_file) -> None:
    ds = load_dataset(write_file("d.csv", "1,hello there\n2,general greeting\n3,bye\n"))
    frame = ds.frame.collect()
    assert ds.columns == ["column_1", "column_2"] and frame["column_1"].dtype == pl.Int64
    assert frame.height == 3


def test_jsonl_fields_first_seen_late_are_not_dropped(write_file) -> None:
    rows = [{"text": f"t{i}"} for i in range(300)]
    rows.append({"text": "late", "extra": "kept"})
    rows += [{"text": "chat", "messages": [{"role": "user", "content": "hi", "name": "ann"}]}]
    ds = load_dataset(write_file("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows)))
    frame = ds.frame.collect()
    assert frame["extra"].to_list()[300] == "kept"
    assert frame["messages"].to_list()[301][0]["name"] == "ann"


def test_an_unreadable_shard_is_a_problem_and_the_rest_load(tmp_path: Path) -> None:
    _shards(tmp_path / "shards")
    (tmp_path / "shards" / "part-3.jsonl").write_bytes(b"\x00\x01binary")
    ds = load_dataset(tmp_path / "shards")
    assert ds.rows == 9 and len(ds.paths) == 3
    assert [(p.file, p.line) for p in ds.problems] == [("part-3.jsonl", None)]
    assert "not a text file" in ds.problems[0].reason
    assert ds.source_of(6) == "part-10.jsonl:1"
