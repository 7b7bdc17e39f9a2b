"""Sentence records: the one data shape every part of propscan reads and writes.

A record is one sentence of one document, with character offsets into the document, the
techniques it carries (`labels`) and where (`spans`). Records are validated on read so a
bad line stops with `FILE:LINE: what is wrong` instead of failing deep inside training.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from data.techniques import load_techniques, technique_ids

FIELDS = ("id", "doc_id", "sent_idx", "start", "end", "text", "labels", "spans", "source")
PTC_SOURCE = "ptc"


class RecordError(ValueError):
    """An invalid record, with the file and line it came from."""


def annotated_techniques(source: str) -> tuple[str, ...]:
    """The techniques a source annotates: PTC lacks the two the inventory adds."""
    if source == PTC_SOURCE:
        return tuple(t.id for t in load_techniques() if t.ptc_label)
    return technique_ids()


def validate(record: object) -> list[str]:
    """Everything wrong with a record, as short sentences; empty when it is valid."""
    if not isinstance(record, dict):
        return ["a record must be a JSON object"]
    missing = [f for f in FIELDS if f not in record]
    if missing:
        return [f"missing field {', '.join(missing)}"]
    problems = []
    for name in ("sent_idx", "start", "end"):
        if not is_offset(record[name]):
            problems.append(f"{name} must be a non-negative integer")
    for name in ("id", "doc_id", "text", "source"):
        if not isinstance(record[name], str):
            problems.append(f"{name} must be a string")
    if not isinstance(record["labels"], list) or not isinstance(record["spans"], list):
        problems.append("labels and spans must be lists")
    if problems:
        return problems
    start, end, text = record["start"], record["end"], record["text"]
    if end - start != len(text):
        problems.append(f"offsets {start}-{end} do not match the text's length {len(text)}")
    known = set(technique_ids())
    for label in record["labels"]:
        if not isinstance(label, str) or label not in known:
            problems.append(f"unknown technique {label!r}")
    for span in record["spans"]:
        if not isinstance(span, dict) or set(span) != {"technique", "start", "end"}:
            problems.append("a span needs exactly technique, start and end")
            continue
        if not (is_offset(span["start"]) and is_offset(span["end"])):
            problems.append(f"span offsets {span['start']!r}-{span['end']!r} must be integers")
            continue
        if not isinstance(span["technique"], str):
            problems.append(f"unknown technique {span['technique']!r} in a span")
            continue
        if span["technique"] not in known:
            problems.append(f"unknown technique {span['technique']!r} in a span")
        elif span["technique"] not in record["labels"]:
            problems.append(f"span technique {span['technique']} is not in labels")
        if not (start <= span["start"] < span["end"] <= end):
            problems.append(
                f"span {span['technique']} {span['start']}-{span['end']} "
                f"lies outside the sentence {start}-{end}"
            )
    return problems


def is_offset(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_records(path: str | Path) -> Iterator[dict]:
    """Yield the valid records of a JSONL file; stop at the first bad line, naming it."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise RecordError(f"{path}:{lineno}: not valid JSON ({err.msg})") from None
            problems = validate(record)
            if problems:
                raise RecordError(f"{path}:{lineno}: {'; '.join(problems)}")
            yield record


def write_records(path: str | Path, records: Iterable[dict]) -> int:
    """Write records as JSONL (fields in schema order); return how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps({f: record[f] for f in FIELDS}, ensure_ascii=False) + "\n")
            count += 1
    return count
