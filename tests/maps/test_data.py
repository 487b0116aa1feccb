"""Map sources and bad input: vectors files, metadata files, word lists, NaN/inf, non-numeric vectors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from embedlab import EmbedlabError
from embedlab.datasets import gensim_test_data
from embedlab.maps import check_vectors, from_collection, from_model, from_vectors_file, open_source


def test_nan_and_inf_rows_are_named(lee_vectors):
    broken = lee_vectors[:20].copy()
    broken[3, 7] = np.nan
    broken[11, 0] = np.inf
    with pytest.raises(EmbedlabError, match=r"2 row\(s\) hold NaN or infinite values \(0-based rows 3, 11\)"):
        check_vectors(broken)


def test_non_numeric_and_badly_shaped_vectors_are_refused():
    with pytest.raises(EmbedlabError, match="not numeric"):
        check_vectors(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(EmbedlabError, match="not numeric"):
        check_vectors([[1.0, "x"], [2.0, 3.0]])
    with pytest.raises(EmbedlabError, match="2-D"):
        check_vectors(np.zeros(5))


def test_npy_file_with_metadata(tmp_path, lee_vectors, lee_records):
    np.save(tmp_path / "v.npy", lee_vectors[:50])
    (tmp_path / "meta.csv").write_text(
        "id,doc,words\n" + "".join(f"{r.id},{r.metadata['doc']},{r.metadata['words']}\n" for r in lee_records[:50]),
        encoding="utf-8",
    )
    data = from_vectors_file(tmp_path / "v.npy", tmp_path / "meta.csv")
    assert data.ids[:2] == ["lee-1", "lee-2"] and data.columns["words"][0] == lee_records[0].metadata["words"]
    assert data.vectors.shape == (50, 384) and data.texts is None
    (tmp_path / "short.csv").write_text("doc\n1\n2\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="has 2 rows for 50 vectors"):
        from_vectors_file(tmp_path / "v.npy", tmp_path / "short.csv")


def test_npy_of_strings_or_objects_is_refused(tmp_path):
    np.save(tmp_path / "s.npy", np.array([["0.1", "0.2"], ["0.3", "x"]]))
    with pytest.raises(EmbedlabError, match="not numeric"):
        from_vectors_file(tmp_path / "s.npy")
    np.save(tmp_path / "o.npy", np.array([[0.1, None]], dtype=object), allow_pickle=True)
    with pytest.raises(EmbedlabError, match="not numeric"):  # never unpickled
        from_vectors_file(tmp_path / "o.npy")


def test_parquet_vector_column_and_metadata(tmp_path, lee_vectors, lee_openings):
    table = pa.table(
        {
            "id": [f"d{i}" for i in range(30)],
            "text": lee_openings[:30],
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(lee_vectors[:30].ravel()), 384),
            "year": list(range(1990, 2020)),
        }
    )
    pq.write_table(table, tmp_path / "v.parquet")
    data = from_vectors_file(tmp_path / "v.parquet")
    assert (
        data.ids[0] == "d0" and data.texts[1] == lee_openings[1] and data.columns == {"year": list(range(1990, 2020))}
    )
    np.testing.assert_allclose(data.vectors, lee_vectors[:30])
    pq.write_table(pa.table({"vector": [["a", "b"], ["c", "d"]]}), tmp_path / "s.parquet")
    with pytest.raises(EmbedlabError, match="not numeric"):
        from_vectors_file(tmp_path / "s.parquet")
    pq.write_table(pa.table({"x": [1.0, 2.0], "name": ["a", "b"]}), tmp_path / "mixed.parquet")
    with pytest.raises(EmbedlabError, match="non-numeric columns: name"):
        from_vectors_file(tmp_path / "mixed.parquet")


def test_collection_source_has_texts_metadata_and_cache_key(lee_store, lee_records):
    data = open_source("lee", lee_store)
    assert len(data) == 300 and data.vectors.shape == (300, 256)
    row = data.ids.index("lee-5")
    assert data.texts[row] == lee_records[4].text and data.columns["doc"][row] == 5
    assert data.cache_key == {"collection": "lee", "version": lee_store.collection("lee").table.version}
    assert data.cache_dir == lee_store.side("lee") / "maps"


def test_unknown_color_column_lists_the_columns(lee_store):
    data = from_collection(lee_store.collection("lee"))
    with pytest.raises(EmbedlabError, match="no column 'topics'.*Did you mean: topic") as caught:
        data.column("topics")
    assert "doc" in caught.value.hint and "words" in caught.value.hint


def test_word_model_source_drops_unknown_words(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("government\npolice\nfire\nisraeli\nzzqxj\npolice\n\n", encoding="utf-8")
    model = f"vectors:{gensim_test_data('euclidean_vectors.bin')}"
    data = open_source(model, words=words)
    assert data.ids == data.texts == ["government", "police", "fire", "israeli"]
    assert data.dropped == ["zzqxj"] and data.vectors.shape[0] == 4


def test_wordllama_embeds_any_word_list(wordllama):
    data = from_model(wordllama, ["paris", "london", "tokyo", "apple", "banana"])
    assert data.vectors.shape == (5, 256) and data.dropped == []


def test_model_without_word_list_and_missing_sources(lee_store, tmp_path):
    with pytest.raises(EmbedlabError, match="is a model, not a collection") as caught:
        open_source("wordllama", lee_store)
    assert "--words FILE" in caught.value.hint
    with pytest.raises(EmbedlabError, match="no collection 'le'"):
        open_source("le", lee_store)
    with pytest.raises(EmbedlabError, match="does not exist"):
        open_source(str(tmp_path / "missing.npy"))
