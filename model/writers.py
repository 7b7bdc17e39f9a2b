"""Output writers that append one document at a time and can resume.

Each document is written and flushed as soon as it is scored, so a crash or Ctrl-C keeps
everything scored so far. On resume a writer reads the ids it already holds, drops a
half-written last line, and skips those documents.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from data.techniques import technique_ids


def truncate_partial_line(path: Path) -> None:
    """Cut a last line that has no newline: the trace of an interrupted write."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


class JsonlWriter:
    """One line per document: id, origin, text and its sentences."""

    def __init__(self, path: Path, resume: bool):
        self.path = path
        self.previous: list[dict] = []
        if resume and path.exists():
            truncate_partial_line(path)
            with path.open(encoding="utf-8") as handle:
                self.previous = [json.loads(line) for line in handle if line.strip()]
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("a" if resume else "w", encoding="utf-8")
        self.done = {doc["id"] for doc in self.previous}

    def write(self, doc: dict) -> None:
        if doc["id"] in self.done:
            return
        self.handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
        self.handle.flush()
        self.done.add(doc["id"])

    def close(self) -> None:
        self.handle.close()


class CsvWriter:
    """One row per sentence, with a probability column per technique."""

    def __init__(self, path: Path, resume: bool):
        self.path = path
        self.techniques = technique_ids()
        self.header = ["doc_id", "sent_idx", "start", "end", "text", "techniques"] + [
            f"p_{t}" for t in self.techniques
        ]
        self.done: set[str] = set()
        if resume and path.exists():
            truncate_partial_line(path)
            with path.open(encoding="utf-8", newline="") as handle:
                self.done = {row["doc_id"] for row in csv.DictReader(handle)}
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not (resume and path.exists() and path.stat().st_size)
        self.handle = path.open("w" if fresh else "a", encoding="utf-8", newline="")
        if fresh:
            csv.writer(self.handle).writerow(self.header)
            self.handle.flush()

    def write(self, doc: dict) -> None:
        if doc["id"] in self.done:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for s in doc["sentences"]:
            writer.writerow(
                [
                    doc["id"],
                    s["sent_idx"],
                    s["start"],
                    s["end"],
                    s["text"],
                    ";".join(s["techniques"]),
                ]
                + [s["probabilities"][t] for t in self.techniques]
            )
        self.handle.write(buffer.getvalue())  # one write per document
        self.handle.flush()
        self.done.add(doc["id"])

    def close(self) -> None:
        self.handle.close()


def open_writer(path: Path, resume: bool) -> JsonlWriter | CsvWriter:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return JsonlWriter(path, resume)
    if suffix == ".csv":
        return CsvWriter(path, resume)
    raise ValueError(f"{path}: --out must end in .jsonl or .csv")
