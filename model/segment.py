"""Split article text into sentences with character offsets into the original text.

Lines are split first (headlines, bylines and bullet items end without a full stop, and
a line break in news copy is a boundary), then pysbd splits each line; it knows "U.S.",
"Mr.", "No. 10", decimals and ellipses. Each sentence is located in the original text
by search, so offsets always point into what the user gave, whatever pysbd normalises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

BULLET = re.compile(r"^\s*(?:[-*•·▪‣]|\d{1,3}[.)])\s+")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


@cache
def segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_line(line: str) -> list[str]:
    if len(line) < 40 and not re.search(r"[.!?…]\S*\s+\S", line):
        return [line]  # short lines (headlines, bylines) are one sentence
    return [piece for piece in segmenter().segment(line) if piece.strip()]


def segment(text: str) -> list[Sentence]:
    """Sentences of `text`; `text[s.start:s.end] == s.text` for every one."""
    sentences: list[Sentence] = []
    line_start = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        if content.strip():
            cursor = 0
            for piece in split_line(content):
                piece = piece.strip()
                found = content.find(piece, cursor)
                if found < 0:  # pysbd changed the text; fall back to the rest of the line
                    piece = content[cursor:].strip()
                    found = content.find(piece, cursor)
                cursor = found + len(piece)
                if sentences and not any(ch.isalnum() for ch in piece) and found > 0:
                    # pysbd splits "..." into "May.." and "."; glue stray punctuation back
                    last = sentences[-1]
                    end = line_start + found + len(piece)
                    if last.start >= line_start:
                        sentences[-1] = Sentence(last.start, end, text[last.start : end])
                        continue
                bullet = BULLET.match(piece)
                if bullet and len(piece) > bullet.end():
                    found, piece = found + bullet.end(), piece[bullet.end() :]
                start = line_start + found
                sentences.append(Sentence(start, start + len(piece), piece))
        line_start += len(line)
    return sentences
