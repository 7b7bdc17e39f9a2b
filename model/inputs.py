"""Read documents to score from .txt files, folders, JSONL, CSV and stdin.

Bad input never stops a batch: each unreadable, empty, binary or non-UTF-8 document and
each malformed JSONL or CSV row becomes an `InputError` naming the file and line, and
reading goes on with the rest.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".text", ".md"}
TABLE_SUFFIXES = {".jsonl", ".csv"}


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    origin: str  # FILE or FILE:LINE


@dataclass(frozen=True)
class InputError:
    origin: str
    reason: str


def decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) or (None, why the bytes are not a document)."""
    if b"\x00" in data[:8192]:
        return None, "binary file (contains NUL bytes)"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return None, f"not UTF-8 text (line {line}, byte {err.start})"
    if not text.strip():
        return None, "empty document"
    return text, None


def read_text_file(path: Path, doc_id: str) -> Document | InputError:
    try:
        data = path.read_bytes()
    except OSError as err:
        return InputError(str(path), f"unreadable: {err.strerror or err}")
    text, problem = decode(data)
    return InputError(str(path), problem) if problem else Document(doc_id, text, str(path))


def read_jsonl(path: Path, id_column: str, text_column: str) -> Iterator[Document | InputError]:
    try:
        handle = path.open("rb")
    except OSError as err:
        yield InputError(str(path), f"unreadable: {err.strerror or err}")
        return
    with handle:
        for lineno, raw in enumerate(handle, start=1):
            where = f"{path}:{lineno}"
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8-sig"))  # a BOM may open line 1
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                yield InputError(where, f"malformed JSON line ({type(err).__name__})")
                continue
            yield row_document(row, where, f"{path.stem}:{lineno}", id_column, text_column)


def read_csv(path: Path, id_column: str, text_column: str) -> Iterator[Document | InputError]:
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        yield InputError(str(path), f"unreadable CSV: {err}")
        return
    csv.field_size_limit(sys.maxsize)  # one long article is a field, not an error
    reader = csv.reader(io.StringIO(content, newline=""))
    header = next(reader, None)
    if header is None or text_column not in header:
        yield InputError(f"{path}:1", f"no {text_column!r} column (columns: {header})")
        return
    while True:
        lineno = reader.line_num + 1  # where the next row starts (it may span lines)
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield InputError(f"{path}:{lineno}", f"malformed CSV row: {err}")
            continue
        if not cells:
            continue
        where = f"{path}:{lineno}"
        if len(cells) > len(header):
            yield InputError(where, "malformed CSV row: more fields than the header")
            continue
        row = dict(zip(header, cells, strict=False))
        yield row_document(row, where, f"{path.stem}:{lineno}", id_column, text_column)


def row_document(row, where: str, fallback_id: str, id_column: str, text_column: str):
    if not isinstance(row, dict):
        return InputError(where, "a row must be an object with a text field")
    text = row.get(text_column)
    if not isinstance(text, str):
        return InputError(where, f"missing or non-string {text_column!r} field")
    if not text.strip():
        return InputError(where, "empty document")
    doc_id = row.get(id_column)
    return Document(str(doc_id) if doc_id not in (None, "") else fallback_id, text, where)


def read_inputs(
    inputs: list[str],
    id_column: str = "id",
    text_column: str = "text",
    skip: frozenset[Path] = frozenset(),
) -> Iterator[Document | InputError]:
    """Every document (or error) of every input, in a stable order. Files in `skip` (the
    run's own outputs, resolved) are left out of folders, so a rerun never scores them."""
    for item in inputs:
        if item == "-":
            text, problem = decode(sys.stdin.buffer.read())
            yield InputError("<stdin>", problem) if problem else Document("stdin", text, "<stdin>")
            continue
        path = Path(item)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not p.name.startswith(".")
                and p.suffix.lower() in TEXT_SUFFIXES | TABLE_SUFFIXES
                and p.resolve() not in skip
            )
            for file in files:
                yield from read_file(file, str(file.relative_to(path)), id_column, text_column)
        elif path.exists():
            yield from read_file(path, path.name, id_column, text_column)
        else:
            yield InputError(item, "no such file or folder")


def read_file(path: Path, doc_id: str, id_column: str, text_column: str):
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from read_jsonl(path, id_column, text_column)
    elif suffix == ".csv":
        yield from read_csv(path, id_column, text_column)
    else:
        yield read_text_file(path, doc_id)
