"""Document-level, deterministic splits and the DatasetDict built on them."""

from data.hf import build_dataset_dict
from data.records import annotated_techniques
from data.splits import split_of, split_records
from data.techniques import technique_ids


def test_no_document_in_two_splits(labeled_records):
    parts = split_records(labeled_records)
    docs = {name: {r["doc_id"] for r in rows} for name, rows in parts.items()}
    assert not docs["train"] & docs["dev"]
    assert not docs["train"] & docs["test"]
    assert not docs["dev"] & docs["test"]
    assert sum(len(rows) for rows in parts.values()) == len(labeled_records)


def test_adding_documents_moves_nothing(labeled_records):
    before = {r["doc_id"]: split_of(r["doc_id"]) for r in labeled_records[:3000]}
    more = labeled_records + [{**r, "doc_id": "new-" + r["doc_id"]} for r in labeled_records[:500]]
    after = {
        d: s
        for name, rows in split_records(more).items()
        for r in rows
        for d, s in [(r["doc_id"], name)]
    }
    assert all(after[d] == s for d, s in before.items())


def test_ratios_are_configurable(labeled_records):
    docs = {r["doc_id"] for r in labeled_records}
    share = sum(split_of(d, (0.5, 0.25, 0.25)) == "train" for d in docs) / len(docs)
    assert 0.4 < share < 0.6


def test_dataset_targets_and_masks(ptc_records):
    dd = build_dataset_dict(ptc_records[:2000])
    assert set(dd) == {"train", "dev", "test"}
    assert dd["train"].features["labels"].feature.dtype == "float32"
    row = next(r for r in dd["train"] if any(r["labels"]))
    ids = technique_ids()
    record = next(r for r in ptc_records if r["id"] == row["id"])
    assert [ids[i] for i, v in enumerate(row["labels"]) if v] == record["labels"]
    annotated = set(annotated_techniques("ptc"))
    assert row["label_mask"] == [float(t in annotated) for t in ids]
    assert row["label_mask"][ids.index("denial")] == 0.0


def test_offsets_cross_validate_every_document_once(labeled_records):
    docs = {r["doc_id"] for r in labeled_records}
    ratios = (0.7, 0.1, 0.2)
    tested = [d for k in range(5) for d in docs if split_of(d, ratios, k * 0.2) == "test"]
    assert sorted(tested) == sorted(docs)
    dev_and_test = [d for d in docs if split_of(d, ratios, 0.4) != "train"]
    assert 0.25 < len(dev_and_test) / len(docs) < 0.35


def test_dataset_digest_covers_every_record():
    """MLflow's pandas digest reads 10,000 rows; PTC has 16,673, and a changed last
    sentence must still change the digest that evaluations are matched on."""
    from training.tracking import pandas_dataset

    records = [
        {
            "id": f"d:{i}",
            "doc_id": "d",
            "sent_idx": i,
            "start": 0,
            "end": 4,
            "text": "Same",
            "labels": [],
            "spans": [],
            "source": "corpus",
        }
        for i in range(10_001)
    ]
    before = pandas_dataset(records, "set", "here").digest
    records[-1] = {**records[-1], "labels": ["doubt"]}
    assert pandas_dataset(records, "set", "here").digest != before
