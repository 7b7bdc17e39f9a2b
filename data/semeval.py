"""The SemEval-2020 task 11 submission format, read and written.

One span a line, `article_id<TAB>technique<TAB>start<TAB>end`, with PTC's technique names
(`Name_Calling,Labeling`) and character offsets into the article file decoded from UTF-8,
`\\n` line ends untouched. It is also the format of PTC's own `train-task2-TC.labels`, so
the reader is data.ptc's checked label-line parser. In Python a span is
`(article_id, technique_id, start, end)` with propscan technique ids (data.span_metrics.Span).

PTC annotates 14 of our 16 techniques. The writer leaves out spans of the other two
(`unsupported_claim`, `denial`): PTC gold never has them, so a PTC scorer could only count
them as false positives, and a model trained on both sources still yields a valid
submission. It returns how many spans it wrote, so a caller can say how many it left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from data.ptc import read_label_lines
from data.span_metrics import Span, check_offsets
from data.techniques import ptc_label_map, technique_ids


def ptc_names() -> dict[str, str]:
    """Our technique id -> PTC technique name, for the techniques PTC annotates."""
    return {tech_id: label for label, tech_id in ptc_label_map().items()}


def check_span(span: Span) -> None:
    """Refuse what would make a line the reader cannot read back."""
    article_id, technique, _, _ = span
    if not article_id or any(c in article_id for c in "\t\r\n"):
        raise ValueError(f"span {span!r}: article id must be non-empty, without tabs or breaks")
    if technique not in technique_ids():
        raise ValueError(f"span {span!r}: unknown technique {technique!r}")
    check_offsets(span)


def submission_lines(spans: Iterable[Span]) -> list[str]:
    """The lines of the spans PTC annotates, in the order given, each span checked."""
    names = ptc_names()
    lines = []
    for span in spans:
        check_span(span)
        article_id, technique, start, end = span
        if technique in names:
            lines.append(f"{article_id}\t{names[technique]}\t{start}\t{end}\n")
    return lines


def write_submission(path: str | Path, spans: Iterable[Span]) -> int:
    """Write the spans PTC annotates, in the order given; returns the number written.

    Every span is checked before the file is opened, so a bad one leaves an existing file
    as it was.
    """
    lines = submission_lines(spans)
    Path(path).write_text("".join(lines), encoding="utf-8", newline="\n")
    return len(lines)


def read_submission(path: str | Path, articles: Mapping[str, str] | None = None) -> list[Span]:
    """Spans of a submission (or PTC labels) file, each line checked; errors name FILE:LINE.

    With `articles` (article id -> text) every span must also lie inside a known article.
    """
    return list(read_label_lines(Path(path), articles))
