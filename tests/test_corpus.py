"""The project's own corpus: valid, large and balanced enough, and disjoint from PTC."""

from collections import Counter

import pytest

from data.authoring import document_text, parse_corpus, parse_file
from data.records import read_records
from data.sources import CORPUS_FILE
from data.splits import split_records
from data.techniques import technique_ids
from tests.conftest import PTC_DIR, ROOT

DOCS = ROOT / "data" / "corpus" / "docs"


@pytest.fixture(scope="module")
def corpus():
    return list(read_records(CORPUS_FILE))


def test_jsonl_is_built_from_the_authored_files(corpus):
    assert parse_corpus(sorted(DOCS.glob("*.txt"))) == corpus


def test_records_are_consistent(corpus):
    for record in corpus:
        assert set(record["labels"]) == {s["technique"] for s in record["spans"]}
        for span in record["spans"]:
            assert record["start"] <= span["start"] < span["end"] <= record["end"]
    texts = [r["text"].casefold() for r in corpus]
    assert len(texts) == len(set(texts)), "duplicate sentences"


def test_size_and_balance(corpus):
    docs = {r["doc_id"] for r in corpus}
    topics = {d.rsplit("-", 1)[0] for d in docs}
    assert len(corpus) >= 2400 and len(docs) >= 180 and len(topics) >= 20
    per = Counter(t for r in corpus for t in r["labels"])
    for tech in technique_ids():
        assert per[tech] >= (150 if tech in {"unsupported_claim", "denial", "name_calling"} else 80)
    assert sum(not r["labels"] for r in corpus) / len(corpus) >= 0.45


def test_every_technique_in_train_and_test(corpus):
    parts = split_records(corpus)
    for split in ("train", "test"):
        present = {t for r in parts[split] for t in r["labels"]}
        assert present == set(technique_ids()), f"{split} lacks {set(technique_ids()) - present}"


def test_no_sentence_comes_from_ptc(corpus):
    if not PTC_DIR.is_dir():
        pytest.skip("PTC not available")
    ptc = set()
    for path in (PTC_DIR / "articles").glob("*.txt"):
        ptc.update(
            line.strip().casefold() for line in path.read_text(encoding="utf-8").splitlines()
        )
    copied = [r["text"] for r in corpus if r["text"].casefold() in ptc]
    assert not copied


def test_seed_article_is_annotated_verbatim():
    seed = next((ROOT / "seeds").glob("*.txt"))
    (doc,) = parse_file(DOCS / "seed.txt")
    assert document_text(doc) == seed.read_text(encoding="utf-8").rstrip("\n")
