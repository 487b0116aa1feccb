from __future__ import annotations

import json
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from embedlab import EmbedlabError
from embedlab.io.records import read_records


def test_plain_text_one_item_per_line(tmp_path):
    path = tmp_path / "items.txt"
    path.write_text("first line\n\nthird line\r\n", encoding="utf-8")
    records = list(read_records(path))
    assert [r.text for r in records] == ["first line", "", "third line"]
    assert [r.line for r in records] == [1, 2, 3]


def test_csv_columns_types_and_default_id(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(
        'id,text,year,score,flag,tag\n7,"Hello, world",2001,0.5,true,a\n8,Bye,1999,,false,\n', encoding="utf-8"
    )
    first, second = read_records(path)
    assert first.id == "7" and first.text == "Hello, world"
    assert first.metadata == {"year": 2001, "score": 0.5, "flag": True, "tag": "a"}
    assert second.metadata == {"year": 1999, "score": None, "flag": False, "tag": None}


def test_tsv_with_named_columns(tmp_path):
    path = tmp_path / "items.tsv"
    path.write_text("key\tbody\tlang\nk1\tsome text\ten\n", encoding="utf-8")
    (record,) = read_records(path, text_column="body", id_column="key")
    assert (record.id, record.text, record.metadata) == ("k1", "some text", {"lang": "en"})


def test_csv_without_the_named_column(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("title,body\na,b\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="no column 'text_col'.*columns are: title, body"):
        read_records(path, text_column="text_col")
    with pytest.raises(EmbedlabError, match="text_column=") as caught:  # the library speaks Python
        read_records(path)
    assert caught.value.param == "text_column" and "--" not in str(caught.value)


def test_the_command_line_names_the_flag(run_cli, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("title,body\na,b\n", encoding="utf-8")
    code, _, err = run_cli("embed", "wordllama", "--input", str(path))
    assert code == 2 and "with --text-column." in err and "text_column" not in err


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("caf\u00e9 ok\n".encode() + "na\u00efve\n".encode("latin-1"))
    with pytest.raises(EmbedlabError, match="line 2"):
        list(read_records(path))


def test_jsonl_and_parquet(tmp_path):
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_text("\n".join(json.dumps({"id": i, "text": f"t{i}", "n": i}) for i in range(3)), encoding="utf-8")
    assert [(r.id, r.metadata["n"]) for r in read_records(jsonl)] == [("0", 0), ("1", 1), ("2", 2)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(EmbedlabError, match="line 2 is not valid JSON"):
        list(read_records(bad))
    parquet = tmp_path / "items.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "year": [2000, 2001]}), parquet)
    assert [r.metadata for r in read_records(parquet)] == [{"year": 2000}, {"year": 2001}]


def test_unknown_extension(tmp_path):
    path = tmp_path / "items.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(EmbedlabError, match="fmt="):
        read_records(path)


def test_reading_is_streamed_not_loaded_whole(tmp_path):
    path = tmp_path / "big.txt"
    line = "a line of text that is about sixty characters long, give or take\n"
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(200_000):
            handle.write(line)
    size = path.stat().st_size  # about 13 MB
    tracemalloc.start()
    count = sum(1 for _ in read_records(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 200_000
    assert peak < size / 20, f"peak {peak} bytes for a {size}-byte file"
