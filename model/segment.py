"""Split article text into sentences with character offsets into the original text.

Lines are split first (headlines, bylines and bullet items end without a full stop, and
a line break in news copy is a boundary), then pysbd splits each line; it knows "U.S.",
"Mr.", "No. 10", decimals and ellipses. Each sentence is located in the original text
by search, so offsets always point into what the user gave, whatever pysbd normalises.

Long lines. pysbd's time grows with the square of what it is given (100,000 characters
take seconds, a 5 MB line many minutes), so it never reads more than `WINDOW` characters
at a time, or `WINDOW + MAX_SENTENCE` while it looks for the end of a long sentence. The
last sentence of a window may be cut by the window's edge, so it is read again at the
start of the next. Segmenting is therefore linear in the length of the text.

Long sentences. A "sentence" longer than `MAX_SENTENCE` characters (text without
sentence ends: a table, a list flattened into one line, a run-on) is cut at whitespace
into pieces of at most that length, each marked `cut=True`; scoring reports them with
`"cut": true` in the sentence's result. Offsets stay exact: `text[s.start:s.end] ==
s.text` for every sentence, and sentences come in order without overlapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

BULLET = re.compile(r"^\s*(?:[-*•·▪‣]|\d{1,3}[.)])\s+")
SPACES = re.compile(r"\s*")
ENDS = re.compile(r"[.!?。．！？]")  # pysbd's English sentence-ending punctuation
WINDOW = 2_000  # characters pysbd reads at a time (its cost per character stays low)
MAX_SENTENCE = 6_000  # characters; about 1,500 tokens, a dozen encoder windows
# The information separators \x1c-\x1f are whitespace to Python's regexes but not to
# int(): pysbd reads "\x1f1. " as a numbered list item and crashes on int("\x1f1").
# Replaced one for one, they leave every offset where it was.
SEPARATORS_AS_SPACES = {code: " " for code in range(0x1C, 0x20)}


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    cut: bool = False  # a piece of a sentence longer than MAX_SENTENCE


@cache
def segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_line(line: str) -> list[str]:
    if len(line) < 40 and not re.search(r"[.!?…]\S*\s+\S", line):
        return [line]  # short lines (headlines, bylines) are one sentence
    if not ENDS.search(line):
        return [line]  # pysbd splits only at these; no need to pay for it
    return [piece for piece in segmenter().segment(line) if piece.strip()]


def locate(chunk: str) -> list[tuple[int, int]]:
    """(start, end) in `chunk` of each sentence pysbd finds there, whitespace trimmed."""
    chunk = chunk.translate(SEPARATORS_AS_SPACES)
    spans, cursor, last = [], 0, len(chunk.rstrip())
    for piece in split_line(chunk):
        piece = piece.strip()
        found = chunk.find(piece, cursor)
        if found < 0:  # pysbd changed the text; fall back to the rest of the chunk
            piece = chunk[cursor:].strip()
            found = chunk.find(piece, cursor)
        if piece:
            spans.append((found, found + len(piece)))
            cursor = found + len(piece)
        if cursor >= last:
            break
    return spans


def window_spans(line: str, pos: int) -> tuple[list[tuple[int, int]], int]:
    """Sentences from `pos` on, and where the window read ends: a small window, or a large
    one when the small one holds only part of one sentence."""
    spans: list[tuple[int, int]] = []
    for size in (WINDOW, WINDOW + MAX_SENTENCE):
        end = min(pos + size, len(line))
        spans = [(pos + a, pos + b) for a, b in locate(line[pos:end])]
        if end == len(line) or len(spans) > 1:
            break
    return spans, end


def cut_point(line: str, start: int) -> int:
    """Where to cut a sentence too long to keep: the last whitespace within MAX_SENTENCE
    characters (in its second half), else exactly MAX_SENTENCE characters in."""
    limit = start + MAX_SENTENCE
    space = max(line.rfind(c, start + MAX_SENTENCE // 2, limit) for c in " \t\u00a0")
    return space if space > start else limit


def capped(line: str, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    """The span as is, or cut into pieces of at most MAX_SENTENCE characters."""
    if end - start <= MAX_SENTENCE:
        yield start, end, False
        return
    while end - start > MAX_SENTENCE:
        cut = cut_point(line, start)
        piece = line[start:cut].rstrip()
        yield start, start + len(piece), True
        start = SPACES.match(line, cut).end()
    if end > start:
        yield start, end, True


def line_sentences(line: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, cut) of each sentence of one line, reading it window by window."""
    pos, rest_of_cut = 0, False  # whether the next sentence is the rest of a cut one
    while pos < len(line):
        spans, window_end = window_spans(line, pos)
        if spans and window_end < len(line):  # the last sentence may run past the window
            if len(spans) > 1:
                spans, window_end = spans[:-1], spans[-1][0]  # read it again next time
            elif spans[0][0] > pos:
                pos = spans[0][0]  # start the window at the sentence
                continue
            else:  # longer than the largest window: cut off a piece now
                start, end, _ = next(capped(line, pos, len(line)))
                yield start, end, True
                pos, rest_of_cut = end, True
                continue
        for start, end in spans:
            for piece_start, piece_end, cut in capped(line, start, end):
                yield piece_start, piece_end, cut or rest_of_cut
                rest_of_cut = False
        pos = window_end


def segment(text: str) -> list[Sentence]:
    """Sentences of `text`; `text[s.start:s.end] == s.text` for every one."""
    sentences: list[Sentence] = []
    line_start = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        for found, end, cut in line_sentences(content):
            piece = content[found:end]
            if sentences and not any(ch.isalnum() for ch in piece) and found > 0:
                # pysbd splits "..." into "May.." and "."; glue stray punctuation back
                last = sentences[-1]
                if last.start >= line_start:
                    end = line_start + end
                    sentences[-1] = Sentence(last.start, end, text[last.start : end], last.cut)
                    continue
            bullet = BULLET.match(piece)
            if bullet and len(piece) > bullet.end():
                found, piece = found + bullet.end(), piece[bullet.end() :]
            start = line_start + found
            sentences.append(Sentence(start, start + len(piece), piece, cut))
        line_start += len(line)
    return sentences
