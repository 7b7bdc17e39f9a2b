"""Read documents to score from .txt files, folders, JSONL, CSV and stdin.

Bad input never stops a batch: each unreadable, empty, binary or non-UTF-8 document and
each malformed JSONL or CSV row becomes an `InputError` naming the file and line, and
reading goes on with the rest. Tables are read line by line, never whole, so a byte that
is not UTF-8 costs only its row. Files of other types in a folder are reported as
`Skipped`; hidden files and folders (a name starting with ".") are left out.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".text", ".md"}
TABLE_SUFFIXES = {".jsonl", ".csv"}
BAD_BYTE = re.compile("[\udc80-\udcff]")  # how surrogateescape decodes a non-UTF-8 byte
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON's "\\ud800": no text can be written


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    origin: str  # FILE or FILE:LINE


@dataclass(frozen=True)
class InputError:
    origin: str
    reason: str


@dataclass(frozen=True)
class Skipped:
    """A file in a folder that is not of a type propscan reads (.pdf, .html, ...)."""

    origin: str
    suffix: str


@dataclass(frozen=True)
class Columns:
    """Where a table row keeps its id and text, and what goes before its id."""

    id: str = "id"
    text: str = "text"
    prefix: str = ""


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


def read_jsonl(path: Path, columns: Columns) -> Iterator[Document | InputError]:
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
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
                yield InputError(where, f"malformed JSON line ({type(err).__name__})")
                continue
            yield row_document(row, where, f"{path.stem}:{lineno}", columns)


def csv_rows(handle) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """(line where the row starts, its cells or why it is malformed) for each row."""
    reader = csv.reader(handle)
    while True:
        lineno = reader.line_num + 1  # rows may span lines
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield lineno, err
            continue
        if cells:  # a blank line gives none
            yield lineno, cells


def open_csv(path: Path):
    """The file as text, decoded as it is read; a byte that is not UTF-8 becomes a lone
    surrogate (see BAD_BYTE) so that only the row holding it is lost."""
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")


def read_csv(path: Path, columns: Columns) -> Iterator[Document | InputError]:
    try:
        handle = open_csv(path)
    except OSError as err:
        yield InputError(str(path), f"unreadable CSV: {err.strerror or err}")
        return
    csv.field_size_limit(sys.maxsize)  # one long article is a field, not an error
    with handle:
        rows = csv_rows(handle)
        _, header = next(rows, (1, None))
        if not isinstance(header, list) or columns.text not in header:
            yield InputError(f"{path}:1", f"no {columns.text!r} column (columns: {header})")
            return
        for lineno, cells in rows:
            where = f"{path}:{lineno}"
            if isinstance(cells, csv.Error):
                yield InputError(where, f"malformed CSV row: {cells}")
            elif len(cells) > len(header):
                yield InputError(where, "malformed CSV row: more fields than the header")
            elif any(BAD_BYTE.search(cell) for cell in cells):
                yield InputError(where, "not UTF-8 text")
            else:
                row = dict(zip(header, cells, strict=False))
                yield row_document(row, where, f"{path.stem}:{lineno}", columns)


def row_document(row, where: str, fallback_id: str, columns: Columns) -> Document | InputError:
    if not isinstance(row, dict):
        return InputError(where, "a row must be an object with a text field")
    text = row.get(columns.text)
    if not isinstance(text, str):
        return InputError(where, f"missing or non-string {columns.text!r} field")
    if not text.strip():
        return InputError(where, "empty document")
    doc_id = row.get(columns.id)
    doc_id = columns.prefix + (str(doc_id) if doc_id not in (None, "") else fallback_id)
    if LONE_SURROGATE.search(text) or LONE_SURROGATE.search(doc_id):
        return InputError(where, "invalid Unicode (a lone surrogate escape such as \\ud800)")
    return Document(doc_id, text, where)


def check_inputs(inputs: list[str]) -> None:
    """Refuse inputs that do not exist now, before a model takes time to load."""
    missing = [item for item in inputs if item != "-" and not Path(item).exists()]
    if missing:
        raise ValueError(f"no such file or folder: {', '.join(missing)}")


def is_hidden(path: Path, folder: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def folder_files(folder: Path, skip: frozenset[Path]) -> tuple[list[Path], list[Path]]:
    """(files to read, files of other types), sorted; hidden files and folders and the
    files in `skip` are in neither."""
    readable, other = [], []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not is_hidden(path, folder) and path.resolve() not in skip:
            known = path.suffix.lower() in TEXT_SUFFIXES | TABLE_SUFFIXES
            (readable if known else other).append(path)
    return readable, other


def read_inputs(
    inputs: list[str],
    id_column: str = "id",
    text_column: str = "text",
    skip: frozenset[Path] = frozenset(),
) -> Iterator[Document | InputError | Skipped]:
    """Every document (or error) of every input, in a stable order, and each file of a
    folder that is not read (`Skipped`). Files in `skip` (the run's own outputs, resolved)
    are left out of folders, so a rerun never scores them.

    With several inputs each id is qualified by its input as given, `INPUT/ID` (a folder's
    files: `FOLDER/RELATIVE/PATH`; a file given directly: the path as given), so that
    inputs holding the same ids or names keep all their documents. The rule depends only
    on the arguments, so `--resume` with the same arguments finds the same ids."""
    qualify = len(inputs) > 1
    for item in inputs:
        if item == "-":
            text, problem = decode(sys.stdin.buffer.read())
            yield InputError("<stdin>", problem) if problem else Document("stdin", text, "<stdin>")
            continue
        path = Path(item)
        prefix = f"{path}/" if qualify else ""
        if path.is_dir():
            readable, other = folder_files(path, skip)
            yield from (Skipped(str(file), file.suffix.lower()) for file in other)
            for file in readable:
                doc_id = f"{prefix}{file.relative_to(path)}"
                yield from read_file(file, doc_id, Columns(id_column, text_column, prefix))
        elif path.exists():
            doc_id = str(path) if qualify else path.name
            yield from read_file(path, doc_id, Columns(id_column, text_column, prefix))
        else:
            yield InputError(item, "no such file or folder")


def count_items(inputs: list[str], skip: frozenset[Path] = frozenset()) -> int:
    """How many documents and errors `read_inputs` will give, for a progress total: files
    are counted, not read; JSONL counts its non-blank lines, CSV its rows (one pass of the
    CSV parser, much faster than scoring)."""
    total = 0
    for item in inputs:
        path = Path(item)
        files = folder_files(path, skip)[0] if path.is_dir() else [path]
        total += sum(count_file(file) for file in files) if item != "-" else 1
    return total


def count_file(path: Path) -> int:
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            with path.open("rb") as handle:
                return sum(1 for line in handle if line.strip())
        if suffix == ".csv":
            csv.field_size_limit(sys.maxsize)
            with open_csv(path) as handle:
                return max(sum(1 for _ in csv_rows(handle)) - 1, 1)
    except OSError:
        pass  # reported as one error when read
    return 1


def read_file(path: Path, doc_id: str, columns: Columns) -> Iterator[Document | InputError]:
    """A text file's one document (as `doc_id`), or every row of a table."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from read_jsonl(path, columns)
    elif suffix == ".csv":
        yield from read_csv(path, columns)
    else:
        yield read_text_file(path, doc_id)
