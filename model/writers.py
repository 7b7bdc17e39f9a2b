"""Output writers that append one document at a time and can resume.

Each document is written and flushed as soon as it is scored, so a crash or Ctrl-C keeps
everything scored so far. On resume a writer reads the ids it already holds, drops what
an interrupted write may have left half done (JSONL: a last line without its newline;
CSV: the last document's rows), and skips the documents it holds.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

OUTPUT_SUFFIXES = (".jsonl", ".csv", ".tsv")


def check_outputs(outputs: list[Path], html_path: Path | None, inputs: list[str]) -> None:
    """Refuse, before anything is opened or truncated, outputs that would lose work."""
    if not outputs and html_path is None:
        raise ValueError("nothing to write: give --out FILE.jsonl/.csv and/or --html FILE")
    for path in outputs:
        if path.suffix.lower() not in OUTPUT_SUFFIXES:
            raise ValueError(f"{path}: --out must end in .jsonl, .csv or .tsv (SemEval spans)")
    given = {Path(item).resolve() for item in inputs if item != "-"}
    for path in [*outputs, *([html_path] if html_path else [])]:
        if path.resolve() in given:
            raise ValueError(f"{path} is both an input and an output; writing would erase it")


def truncate_partial_line(path: Path) -> None:
    """Cut a last line that has no newline: the trace of an interrupted write."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def read_previous(path: Path) -> list[dict]:
    """The documents an earlier run wrote, each line checked."""
    documents = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                doc = None
            if not isinstance(doc, dict) or "id" not in doc:
                raise ValueError(f"{path}:{lineno}: not a propscan output line; cannot resume")
            documents.append(doc)
    return documents


def drop_last_csv_document(path: Path) -> set[str]:
    """The document ids an earlier CSV output holds, after cutting off its last document.

    A document is several rows; an interrupted run may have written only some of them, or
    half of a quoted field that spans lines, and nothing in the file says which. Its rows
    are removed so it is scored again in full.
    """
    truncate_partial_line(path)
    try:
        content = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8, not a propscan CSV output; cannot resume") from None
    ends = [0]  # character offset where each line read so far ends

    def lines():
        for line in io.StringIO(content, newline=""):  # the lines csv.reader expects
            ends.append(ends[-1] + len(line))
            yield line

    reader = csv.reader(lines())
    header = next(reader, None)
    if header is None:
        return set()
    if "doc_id" not in header:
        raise ValueError(f"{path}:1: not a propscan CSV output (no doc_id column); cannot resume")
    column = header.index("doc_id")
    header_end = ends[-1]
    rows: list[tuple[str, int]] = []  # (doc_id, offset where the row ends)
    for row in reader:
        if row:
            rows.append((row[column] if column < len(row) else "", ends[-1]))
    if not rows:
        return set()
    last = rows[-1][0]
    keep = [end for doc_id, end in rows if doc_id != last]
    cut = keep[-1] if keep else header_end
    with path.open("r+b") as handle:
        handle.truncate(len(content[:cut].encode("utf-8")))
    return {doc_id for doc_id, _ in rows if doc_id != last}


class JsonlWriter:
    """One line per document: id, origin, text and its sentences."""

    def __init__(self, path: Path, resume: bool):
        self.path = path
        self.previous: list[dict] = []
        if resume and path.exists():
            truncate_partial_line(path)
            self.previous = read_previous(path)
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

    def __init__(self, path: Path, resume: bool, techniques: list[str]):
        self.path = path
        self.techniques = techniques
        self.header = ["doc_id", "sent_idx", "start", "end", "text", "techniques", "spans"] + [
            f"p_{t}" for t in self.techniques
        ]
        self.done: set[str] = set()
        if resume and path.exists():
            self.done = drop_last_csv_document(path)
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
                    spans_cell(s.get("spans", [])),
                ]
                + [s["probabilities"][t] for t in self.techniques]
            )
        self.handle.write(buffer.getvalue())  # one write per document
        self.handle.flush()
        self.done.add(doc["id"])

    def close(self) -> None:
        self.handle.close()


def spans_cell(spans: list[dict]) -> str:
    """A sentence's spans as a spreadsheet reader reads them:
    `name_calling "corrupt elites" 14-28 0.82; bandwagon "Everyone knows" 40-54 0.61`."""
    return "; ".join(
        f'{s["technique"]} "{s["text"]}" {s["start"]}-{s["end"]} {s["probability"]:.2f}'
        for s in spans
    )


def article_id(doc_id: str) -> str:
    """PTC's article id from a document id: `folder/article111111` -> `111111`."""
    return doc_id.rsplit("/", 1)[-1].removesuffix(".txt").removeprefix("article")


class SemevalWriter:
    """Spans in the SemEval-2020 task 11 submission format (data.semeval): a line per
    span, `article_id<TAB>technique<TAB>start<TAB>end`, PTC technique names, offsets into
    the article file. It cannot tell which documents it holds (one without spans has no
    line), so `done` is None: resuming relies on the other outputs, and lines are only
    appended for documents scored now."""

    done = None

    def __init__(self, path: Path, resume: bool):
        if resume and path.exists():
            truncate_partial_line(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("a" if resume else "w", encoding="utf-8", newline="\n")

    def write(self, doc: dict) -> None:
        from data.semeval import submission_lines  # leaves out techniques PTC lacks

        article = article_id(doc["id"])
        spans = [
            (article, span["technique"], span["start"], span["end"])
            for sentence in doc["sentences"]
            for span in sentence.get("spans", [])
        ]
        self.handle.write("".join(submission_lines(spans)))
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def open_writer(path: Path, resume: bool, techniques: list[str]):
    """A writer for `path` (checked by `check_outputs`): .jsonl a line per document, .csv a
    row per sentence with a column per technique, .tsv the SemEval spans."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return JsonlWriter(path, resume)
    if suffix == ".tsv":
        return SemevalWriter(path, resume)
    return CsvWriter(path, resume, techniques)
