"""`propscan score --engine spark` on local[2] gives what `propscan score` gives."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT
from training.cli import main

pytestmark = pytest.mark.slow
BAD_ROWS = [
    {"url": "null-text", "body": None},
    {"url": "empty-text", "body": "  \n"},
    {"url": "number-text", "body": 42},
    {"url": "long-text", "body": "Too long. " * 2_500},  # 25,000 characters
]
MAX_CHARS = 20_000


def corpus_documents(limit: int = 40) -> list[dict]:
    """Real articles from the project's corpus files, one row per article."""
    rows = []
    for path in sorted((ROOT / "data" / "corpus" / "docs").glob("*.txt")):
        for chunk in path.read_text(encoding="utf-8").split("=== ")[1:]:
            name, _, body = chunk.partition("\n")
            rows.append({"url": f"https://example.org/{name.strip()}", "body": body})
    return rows[:limit]


def spark_sentences(folder) -> dict[tuple[str, int], dict]:
    table = pq.read_table(folder)  # skips _errors, as Spark's reader does
    return {(row["id"], row["sent_idx"]): row for row in table.to_pylist()}


def assert_same_sentences(got: dict, expected: dict) -> None:
    """Spark's sentence rows against propscan score's sentences: the same offsets, text,
    techniques and spans, probabilities within one unit of the fourth decimal they are
    rounded to (Spark's batches pad to other lengths, which moves the last bits of a
    float and can flip a rounding: 0.1235 against 0.1234 differ by just over 1e-4)."""
    assert sorted(got) == sorted(expected)
    for key, want in expected.items():
        row = got[key]
        assert (row["start"], row["end"], row["text"]) == (want["start"], want["end"], want["text"])
        assert row["techniques"] == want["techniques"], key
        probs = dict(row["probabilities"])
        assert probs.keys() == want["probabilities"].keys()
        assert all(abs(probs[t] - p) < 1.5e-4 for t, p in want["probabilities"].items()), key
        assert row["cut"] == want.get("cut", False)
        spans = [(s["technique"], s["start"], s["end"], s["text"]) for s in row["spans"]]
        assert spans == [(s["technique"], s["start"], s["end"], s["text"]) for s in want["spans"]]


def test_spark_scores_like_propscan_score(trained, mlflow_store, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    docs = corpus_documents()
    rows = [*docs[:20], *BAD_ROWS, *docs[20:]]
    source = tmp_path / "news.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    model = trained["transformer"].version  # models:/propscan/N, reached by URI
    common = ["score", str(source), "--text-column", "body", "--id-column", "url"]
    common += ["--model", model]

    local_out, local_errors = tmp_path / "local.jsonl", tmp_path / "local-errors.jsonl"
    assert main([*common, "--out", str(local_out), "--errors", str(local_errors), "--quiet"]) == 1
    out = tmp_path / "scored.parquet"
    spark_args = ["--engine", "spark", "--master", "local[2]", "--out", str(out)]
    assert main([*common, *spark_args, "--max-chars", str(MAX_CHARS)]) == 1

    # The bad rows, by id: propscan score's three, and the over-long one (scored locally).
    line_ids = {f"{source}:{n}": r["url"] for n, r in enumerate(rows, start=1)}
    local_failed = {
        line_ids[e["origin"]]: e["reason"]
        for e in map(json.loads, local_errors.read_text().splitlines())
    }
    spark_failed = {r["id"]: r["reason"] for r in pq.read_table(out / "_errors").to_pylist()}
    assert set(local_failed) == {"null-text", "empty-text", "number-text"}
    assert spark_failed == local_failed | {
        "long-text": "over-long text (25,000 characters; the limit is 20,000)"
    }

    # Every sentence of every good document, as propscan score found it.
    local = [json.loads(line) for line in local_out.read_text().splitlines()]
    expected = {
        (doc["id"], s["sent_idx"]): s
        for doc in local
        if doc["id"] != "long-text"
        for s in doc["sentences"]
    }
    got = spark_sentences(out)
    assert len({doc_id for doc_id, _ in got}) == len(docs)
    assert len(got) > 300
    assert any(s["spans"] for s in expected.values())  # the span head is exercised
    assert_same_sentences(got, expected)

    # The same rows from Parquet (a text column holds no numbers), and one without an id
    # (JSONL's line number is not known on Spark): the same results.
    table = tmp_path / "news.parquet"
    no_id = {"url": None, "body": "A row with no id."}
    parquet_rows = [r for r in rows if r["url"] != "number-text"] + [no_id]
    pq.write_table(pa.Table.from_pylist(parquet_rows), table)
    out_pq = tmp_path / "from-parquet"
    spark_args = ["--engine", "spark", "--master", "local[2]", "--out", str(out_pq)]
    pq_args = [*common[2:], *spark_args, "--max-chars", str(MAX_CHARS)]
    assert main(["score", str(table), *pq_args]) == 1
    pq_failed = {r["id"]: r["reason"] for r in pq.read_table(out_pq / "_errors").to_pylist()}
    assert pq_failed == {k: v for k, v in spark_failed.items() if k != "number-text"} | {
        None: "missing 'url' field (the Spark engine needs ids)"
    }
    assert_same_sentences(spark_sentences(out_pq), expected)
