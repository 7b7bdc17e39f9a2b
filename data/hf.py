"""Build a Hugging Face `DatasetDict` from sentence records.

Targets are float32 multi-hot vectors in inventory order; `label_mask` marks the
techniques the record's source annotates, so training can ignore the rest. A record's
technique spans come as three parallel lists (technique index, start, end) with offsets
into the sentence, from which the span head's token targets are made.
"""

from __future__ import annotations

from collections.abc import Iterable

import datasets

from data.records import annotated_techniques
from data.splits import DEFAULT_RATIOS, split_records
from data.techniques import technique_ids

FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "doc_id": datasets.Value("string"),
        "text": datasets.Value("string"),
        "source": datasets.Value("string"),
        "labels": datasets.Sequence(datasets.Value("float32")),
        "label_mask": datasets.Sequence(datasets.Value("float32")),
        "span_technique": datasets.Sequence(datasets.Value("int32")),
        "span_start": datasets.Sequence(datasets.Value("int32")),
        "span_end": datasets.Sequence(datasets.Value("int32")),
    }
)


def to_row(record: dict, ids: tuple[str, ...]) -> dict:
    present = set(record["labels"])
    annotated = set(annotated_techniques(record["source"]))
    index = {t: i for i, t in enumerate(ids)}
    spans = record["spans"]
    return {
        "id": record["id"],
        "doc_id": record["doc_id"],
        "text": record["text"],
        "source": record["source"],
        "labels": [float(t in present) for t in ids],
        "label_mask": [float(t in annotated) for t in ids],
        "span_technique": [index[span["technique"]] for span in spans],
        "span_start": [span["start"] - record["start"] for span in spans],
        "span_end": [span["end"] - record["start"] for span in spans],
    }


def build_dataset(records: Iterable[dict]) -> datasets.Dataset:
    ids = technique_ids()
    rows = [to_row(r, ids) for r in records]
    if not rows:  # from_list cannot take the columns from rows that are not there
        return datasets.Dataset.from_dict({name: [] for name in FEATURES}, features=FEATURES)
    return datasets.Dataset.from_list(rows, features=FEATURES)


def build_dataset_dict(
    records: Iterable[dict], ratios: tuple[float, float, float] = DEFAULT_RATIOS
) -> datasets.DatasetDict:
    """Document-level train/dev/test splits of the records as one `DatasetDict`."""
    return dataset_dict(split_records(records, ratios))


def dataset_dict(parts: dict[str, list[dict]]) -> datasets.DatasetDict:
    """One `Dataset` per split of records already split."""
    return datasets.DatasetDict({name: build_dataset(rows) for name, rows in parts.items()})
