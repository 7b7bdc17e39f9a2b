"""Import the Propaganda Techniques Corpus (SemEval-2020 task 11) into sentence records.

PTC ships articles as `articles/articleID.txt` and technique spans as tab-separated
`ID TECHNIQUE START END` lines. A sentence is a non-empty line of an article; it carries
every technique whose span overlaps it, with the span clipped to the sentence. Offsets
are into the article decoded from UTF-8 with `\\n` line ends left untouched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path

from data.records import PTC_SOURCE
from data.techniques import ptc_label_map

LABELS_FILE = "train-task2-TC.labels"


class PTCError(ValueError):
    """A problem in a PTC folder or a file in its label format, named by file and line."""


def read_utf8(path: Path) -> str:
    """A file's text, decoded from UTF-8 with `\\n` line ends untouched (offsets count on it)."""
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


def parse_label_line(
    line: str, where: str, articles: Mapping[str, str] | None = None
) -> tuple[str, str, int, int]:
    """(article id, technique id, start, end) of one `ID TECHNIQUE START END` line.

    Offsets are checked against the article when `articles` (id -> text) is given; any
    problem is a PTCError that starts with `where` (FILE:LINE).
    """
    cols = line.split("\t")
    if len(cols) != 4:
        raise PTCError(f"{where}: expected 4 tab-separated columns, found {len(cols)}")
    article_id, label, start_s, end_s = cols
    by_label = ptc_label_map()
    if label not in by_label:
        raise PTCError(f"{where}: unknown technique {label!r}")
    try:
        start, end = int(start_s), int(end_s)
    except ValueError:
        raise PTCError(f"{where}: offsets {start_s!r}, {end_s!r} are not integers") from None
    if not 0 <= start < end:
        raise PTCError(f"{where}: span {start}-{end} is empty or reversed (need 0 <= start < end)")
    if articles is not None:
        if article_id not in articles:
            raise PTCError(f"{where}: no article {article_id} in the articles folder")
        length = len(articles[article_id])
        if end > length:
            raise PTCError(
                f"{where}: span {start}-{end} lies outside article {article_id} "
                f"({length} characters)"
            )
    return article_id, by_label[label], start, end


def read_label_lines(
    path: Path, articles: Mapping[str, str] | None = None
) -> Iterator[tuple[str, str, int, int]]:
    """Every span of a labels file, in file order; blank lines are skipped."""
    for lineno, line in enumerate(read_utf8(path).splitlines(), start=1):
        if line.strip():
            yield parse_label_line(line, f"{path}:{lineno}", articles)


def read_labels(path: Path, articles: dict[str, str]) -> dict[str, list[tuple[str, int, int]]]:
    """Technique spans per article id, every line checked against its article."""
    spans: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for article_id, technique, start, end in read_label_lines(path, articles):
        spans[article_id].append((technique, start, end))
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


def read_articles(folder: Path) -> dict[str, str]:
    """Article id -> text of every articles/article*.txt in a PTC folder."""
    article_dir = folder / "articles"
    if not article_dir.is_dir():
        raise PTCError(f"{folder}: no articles/ folder (is this a PTC training folder?)")
    articles = {
        path.stem.removeprefix("article"): read_utf8(path)
        for path in sorted(article_dir.glob("article*.txt"))
    }
    if not articles:
        raise PTCError(f"{article_dir}: no article*.txt files")
    return articles


def import_ptc(folder: str | Path) -> list[dict]:
    """Sentence records of every article in a PTC folder (articles/ + technique labels)."""
    folder = Path(folder)
    articles = read_articles(folder)
    labels_path = folder / LABELS_FILE
    if not labels_path.is_file():
        raise PTCError(f"{labels_path}: missing; without it every sentence would look clean")
    spans = read_labels(labels_path, articles)
    records = []
    for article_id, text in articles.items():
        records.extend(article_records(article_id, text, spans.get(article_id, [])))
    return records
