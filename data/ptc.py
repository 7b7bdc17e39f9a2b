"""Import the Propaganda Techniques Corpus (SemEval-2020 task 11) into sentence records.

PTC ships articles as `articles/articleID.txt` and technique spans as tab-separated
`ID TECHNIQUE START END` lines. A sentence is a non-empty line of an article; it carries
every technique whose span overlaps it, with the span clipped to the sentence. Offsets
are into the article decoded from UTF-8 with `\\n` line ends left untouched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from data.records import PTC_SOURCE
from data.techniques import ptc_label_map

LABELS_FILE = "train-task2-TC.labels"


class PTCError(ValueError):
    """A problem in the PTC folder, named by file and line."""


def read_article(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise PTCError(
            f"{path}:{line_of(path.read_bytes(), err.start)}: not UTF-8 text (byte {err.start})"
        ) from None


def line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def sentence_bounds(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-empty line, trimmed of surrounding white space."""
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = pos + (len(line) - len(line.lstrip()))
            yield start, start + len(stripped)
        pos += len(line) + 1


def read_labels(path: Path, articles: dict[str, str]) -> dict[str, list[tuple[str, int, int]]]:
    """Technique spans per article id, every line checked against its article."""
    by_label = ptc_label_map()
    spans: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    lines = path.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        cols = line.split("\t")
        if len(cols) != 4:
            raise PTCError(f"{where}: expected 4 tab-separated columns, found {len(cols)}")
        article_id, label, start_s, end_s = cols
        if article_id not in articles:
            raise PTCError(f"{where}: no article {article_id} in the articles folder")
        if label not in by_label:
            raise PTCError(f"{where}: unknown technique {label!r}")
        try:
            start, end = int(start_s), int(end_s)
        except ValueError:
            raise PTCError(f"{where}: offsets {start_s!r}, {end_s!r} are not integers") from None
        length = len(articles[article_id])
        if not 0 <= start < end <= length:
            raise PTCError(
                f"{where}: span {start}-{end} lies outside article {article_id} "
                f"({length} characters)"
            )
        spans[article_id].append((by_label[label], start, end))
    return spans


def article_records(article_id: str, text: str, spans: list[tuple[str, int, int]]) -> list[dict]:
    records = []
    for idx, (start, end) in enumerate(sentence_bounds(text)):
        inside = sorted(
            {
                (tech, max(s, start), min(e, end))
                for tech, s, e in spans
                if max(s, start) < min(e, end)
            },
            key=lambda span: (span[1], span[2], span[0]),
        )
        records.append(
            {
                "id": f"ptc-{article_id}:{idx}",
                "doc_id": f"ptc-{article_id}",
                "sent_idx": idx,
                "start": start,
                "end": end,
                "text": text[start:end],
                "labels": sorted({tech for tech, _, _ in inside}),
                "spans": [{"technique": t, "start": s, "end": e} for t, s, e in inside],
                "source": PTC_SOURCE,
            }
        )
    return records


def import_ptc(folder: str | Path) -> list[dict]:
    """Sentence records of every article in a PTC folder (articles/ + technique labels)."""
    folder = Path(folder)
    article_dir = folder / "articles"
    if not article_dir.is_dir():
        raise PTCError(f"{folder}: no articles/ folder (is this a PTC training folder?)")
    articles = {
        path.stem.removeprefix("article"): read_article(path)
        for path in sorted(article_dir.glob("article*.txt"))
    }
    if not articles:
        raise PTCError(f"{article_dir}: no article*.txt files")
    labels_path = folder / LABELS_FILE
    if not labels_path.is_file():
        raise PTCError(f"{labels_path}: missing; without it every sentence would look clean")
    spans = read_labels(labels_path, articles)
    records = []
    for article_id, text in articles.items():
        records.extend(article_records(article_id, text, spans.get(article_id, [])))
    return records
