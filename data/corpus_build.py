"""Compile the authored corpus files (`data/corpus/docs/*.txt`) into `corpus.jsonl`."""

from __future__ import annotations

from pathlib import Path

from data.authoring import parse_corpus
from data.records import validate, write_records


def build_corpus(docs_dir: Path, output: Path) -> int:
    records = parse_corpus(sorted(Path(docs_dir).glob("*.txt")))
    for record in records:
        problems = validate(record)
        if problems:
            raise ValueError(f"{record['id']}: {'; '.join(problems)}")
    return write_records(output, records)
