"""The PTC importer against the real training folder, and against corrupt copies of it."""

import shutil
from collections import Counter

import pytest

from data.ptc import PTCError, import_ptc
from data.records import read_records
from training.cli import main

EXPECTED_PER_TECHNIQUE = {
    "loaded_language": 1889,
    "name_calling": 941,
    "doubt": 613,
    "repetition": 577,
    "exaggeration": 456,
    "appeal_to_fear": 335,
    "causal_oversimplification": 250,
    "flag_waving": 234,
    "appeal_to_authority": 174,
    "black_and_white": 131,
    "slogans": 128,
    "whataboutism": 115,
    "thought_terminating_cliche": 81,
    "bandwagon": 81,
}


def test_counts_match_the_corpus(ptc_records):
    assert len({r["doc_id"] for r in ptc_records}) == 371
    assert len(ptc_records) == 16_673
    assert sum(bool(r["labels"]) for r in ptc_records) == 4_753
    per = Counter(t for r in ptc_records for t in r["labels"])
    assert dict(per) == EXPECTED_PER_TECHNIQUE


def test_offsets_point_into_the_articles(ptc_records, ptc_dir):
    articles = {}
    for record in ptc_records:
        doc = record["doc_id"].removeprefix("ptc-")
        if doc not in articles:
            articles[doc] = (ptc_dir / "articles" / f"article{doc}.txt").read_bytes().decode()
        text = articles[doc]
        assert text[record["start"] : record["end"]] == record["text"]
        for span in record["spans"]:
            assert record["start"] <= span["start"] < span["end"] <= record["end"]
            assert text[span["start"] : span["end"]].strip()


def test_cli_writes_valid_records(tmp_path, capsys, ptc_dir):
    out = tmp_path / "ptc.jsonl"
    assert main(["data", "import-ptc", str(ptc_dir), "-o", str(out)]) == 0
    assert "16,673 sentences of 371 documents" in capsys.readouterr().out
    assert sum(1 for _ in read_records(out)) == 16_673


@pytest.fixture
def small_ptc(tmp_path, ptc_dir):
    """A copy of three PTC articles and their labels, to corrupt."""
    folder = tmp_path / "ptc"
    (folder / "articles").mkdir(parents=True)
    ids = sorted(p.stem[7:] for p in (ptc_dir / "articles").glob("article*.txt"))[:3]
    for doc in ids:
        shutil.copy(ptc_dir / "articles" / f"article{doc}.txt", folder / "articles")
    lines = [
        line
        for line in (ptc_dir / "train-task2-TC.labels").read_text().splitlines()
        if line.split("\t")[0] in ids
    ]
    (folder / "train-task2-TC.labels").write_text("\n".join(lines) + "\n")
    return folder, ids, lines


def corrupt_line(folder, lines, lineno, new_line):
    lines = list(lines)
    lines[lineno - 1] = new_line
    (folder / "train-task2-TC.labels").write_text("\n".join(lines) + "\n")


def test_small_copy_imports(small_ptc):
    folder, ids, _ = small_ptc
    assert {r["doc_id"] for r in import_ptc(folder)} == {f"ptc-{i}" for i in ids}


def test_a_folder_without_labels_is_refused(small_ptc):
    folder, _, _ = small_ptc
    (folder / "train-task2-TC.labels").unlink()
    with pytest.raises(PTCError, match=r"train-task2-TC.labels: missing"):
        import_ptc(folder)


def test_truncated_label_line(small_ptc):
    folder, ids, lines = small_ptc
    corrupt_line(folder, lines, 2, f"{ids[0]}\tLoaded_Language\t12")
    with pytest.raises(PTCError, match=r"train-task2-TC.labels:2: expected 4 tab-separated"):
        import_ptc(folder)


def test_offset_past_the_end(small_ptc):
    folder, ids, lines = small_ptc
    corrupt_line(folder, lines, 3, f"{ids[0]}\tDoubt\t10\t999999")
    with pytest.raises(PTCError, match=r"train-task2-TC.labels:3: span 10-999999 lies outside"):
        import_ptc(folder)


def test_unknown_label(small_ptc):
    folder, ids, lines = small_ptc
    corrupt_line(folder, lines, 1, f"{ids[0]}\tGaslighting\t0\t5")
    with pytest.raises(PTCError, match=r"train-task2-TC.labels:1: unknown technique 'Gaslighting'"):
        import_ptc(folder)


def test_non_utf8_article(small_ptc, capsys):
    folder, ids, _ = small_ptc
    path = folder / "articles" / f"article{ids[1]}.txt"
    path.write_bytes(b"Headline\n\nA caf\xe9 in the second paragraph.\n")
    with pytest.raises(PTCError, match=rf"article{ids[1]}.txt:3: not UTF-8"):
        import_ptc(folder)
    # The command line reports the same error and exits non-zero, without a traceback.
    assert main(["data", "import-ptc", str(folder), "-o", str(folder / "out.jsonl")]) == 2
    assert f"article{ids[1]}.txt:3: not UTF-8" in capsys.readouterr().err
