"""Parse the corpus's authoring format into sentence records.

Authors write one sentence per line with inline marks, which is far less error-prone
than typing character offsets by hand:

    === climate-07
    Headline of the article
    The [[loaded_language: reckless]] plan will [[exaggeration: destroy every farm]].
    [[doubt,unsupported_claim: Everyone knows the figures were cooked.]]

`=== ID` starts a document; each following non-empty line is a sentence, separated from
the one before by a newline, or by one space when the line starts with `+ ` (a sentence
that continues the same paragraph); `#` starts a comment line.
A mark is `[[technique_id[,technique_id...]: text]]`; marks do not nest.
The document text is its sentences joined by their separators, so offsets are exact.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from data.techniques import technique_ids

CORPUS_SOURCE = "propscan-corpus"
MARK = re.compile(r"\[\[([a-z_,\s]+):\s?(.*?)\]\]")


class AuthoringError(ValueError):
    """A mistake in an authored file, reported as FILE:LINE: what is wrong."""


@dataclass
class Document:
    doc_id: str
    sentences: list[tuple[str, list[tuple[str, int, int]]]] = field(default_factory=list)
    separators: list[str] = field(default_factory=list)  # what precedes each sentence


def parse_line(line: str, where: str) -> tuple[str, list[tuple[str, int, int]]]:
    """Strip marks from one line; return its plain text and (technique, start, end) spans."""
    known = set(technique_ids())
    text, spans, pos = [], [], 0
    length = 0
    for match in MARK.finditer(line):
        before = line[pos : match.start()]
        text.append(before)
        length += len(before)
        inner = match.group(2)
        if not inner.strip():
            raise AuthoringError(f"{where}: empty mark")
        for tech in (t.strip() for t in match.group(1).split(",")):
            if tech not in known:
                raise AuthoringError(f"{where}: unknown technique {tech!r}")
            spans.append((tech, length, length + len(inner)))
        text.append(inner)
        length += len(inner)
        pos = match.end()
    text.append(line[pos:])
    plain = "".join(text)
    if "[[" in plain or "]]" in plain:
        raise AuthoringError(f"{where}: unbalanced or malformed mark")
    if plain != plain.strip():
        raise AuthoringError(f"{where}: sentence has leading or trailing spaces")
    return plain, spans


def parse_file(path: Path) -> list[Document]:
    docs: list[Document] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        where = f"{path}:{lineno}"
        if not line or line.startswith("#"):
            continue
        if line.startswith("==="):
            doc_id = line[3:].strip()
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", doc_id):
                raise AuthoringError(f"{where}: bad document id {doc_id!r}")
            docs.append(Document(doc_id))
            continue
        if not docs:
            raise AuthoringError(f"{where}: sentence before the first '=== ID' line")
        separator = " " if line.startswith("+ ") else "\n"
        docs[-1].separators.append(separator)
        docs[-1].sentences.append(parse_line(line.removeprefix("+ "), where))
    return docs


def document_records(doc: Document, source: str = CORPUS_SOURCE) -> list[dict]:
    """Turn one parsed document into sentence records with offsets into its text."""
    records, offset = [], 0
    for idx, (text, spans) in enumerate(doc.sentences):
        start = offset + (len(doc.separators[idx]) if idx else 0)
        records.append(
            {
                "id": f"{doc.doc_id}:{idx}",
                "doc_id": doc.doc_id,
                "sent_idx": idx,
                "start": start,
                "end": start + len(text),
                "text": text,
                "labels": sorted({tech for tech, _, _ in spans}),
                "spans": [
                    {"technique": tech, "start": start + s, "end": start + e}
                    for tech, s, e in spans
                ],
                "source": source,
            }
        )
        offset = start + len(text)
    return records


def document_text(doc: Document) -> str:
    return "".join(
        (sep if idx else "") + text
        for idx, (sep, (text, _)) in enumerate(zip(doc.separators, doc.sentences, strict=True))
    )


def parse_corpus(paths: list[Path]) -> list[dict]:
    """Records of every document in the authored files; ids and sentences must be unique."""
    records: list[dict] = []
    seen_docs: dict[str, Path] = {}
    seen_text: dict[str, str] = {}
    for path in paths:
        for doc in parse_file(path):
            if doc.doc_id in seen_docs:
                raise AuthoringError(
                    f"{path}: document {doc.doc_id} also in {seen_docs[doc.doc_id]}"
                )
            seen_docs[doc.doc_id] = path
            for rec in document_records(doc):
                key = rec["text"].casefold()
                if key in seen_text:
                    raise AuthoringError(
                        f"{path}: sentence {rec['id']} duplicates {seen_text[key]}: {rec['text']!r}"
                    )
                seen_text[key] = rec["id"]
                records.append(rec)
    return records


def summary(records: list[dict]) -> str:
    per_tech = Counter(t for r in records for t in r["labels"])
    docs = {r["doc_id"] for r in records}
    none = sum(1 for r in records if not r["labels"])
    lines = [
        f"documents {len(docs)}  sentences {len(records)}  "
        f"no technique {none} ({none / max(len(records), 1):.0%})"
    ]
    lines += [f"  {tech:28s} {per_tech.get(tech, 0):5d}" for tech in technique_ids()]
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        print(summary(parse_corpus([Path(p) for p in sys.argv[1:]])))
    except AuthoringError as err:
        sys.exit(f"error: {err}")
