"""Properties that must hold for any input, checked on generated text and bytes."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from model.segment import MAX_SENTENCE, WINDOW, segment

# Bounded for two shared cores: few, small examples; no deadline (the machine is busy).
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that have broken segmenters: line ends of every kind, controls, bidi marks,
# zero-width joiners, emoji, combining marks, sentence ends and abbreviations.
AWKWARD = [
    "\r\n", "\r", "\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u2028", "\u2029", "\x00", "\t",
    "\u200f", "\u202e", "\u200d", "\u200b", "\ufeff", "👩‍👩‍👧", "🇺🇸", "é", "\u0301",
    ". ", "! ", "? ", "...", "…", "Mr. ", "U.S. ", "No. 10 ", "1. ", "- ", "“", "”", "  ",
]  # fmt: skip
pieces = st.one_of(st.sampled_from(AWKWARD), st.text(min_size=1, max_size=12))
texts = st.lists(pieces, max_size=60).map("".join)
# Lines many windows long: words, sentence ends and awkward characters repeated.
long_lines = st.builds(
    lambda words, repeat: " ".join(words) * repeat,
    st.lists(st.sampled_from(["word", "a.", "Mr.", "x!", "", "\u200d", "é", "\r"]), min_size=1),
    st.integers(min_value=1, max_value=2 * (WINDOW + MAX_SENTENCE) // 10),
)


def check_offsets(text: str) -> None:
    """Exact offsets, in order, no overlap, and no letter left out of every sentence."""
    previous_end = 0
    for s in segment(text):
        assert text[s.start : s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert previous_end <= s.start < s.end <= len(text)
        assert not any(ch.isalpha() for ch in text[previous_end : s.start])
        previous_end = s.end
    assert not any(ch.isalpha() for ch in text[previous_end:])


@FAST
@given(texts)
@example("\x1f1. \x00")  # pysbd took the separator for a list number's whitespace
def test_segment_offsets_hold_for_any_text(text):
    check_offsets(text)


@settings(FAST, max_examples=25)
@given(long_lines)
def test_segment_offsets_hold_for_long_lines(text):
    check_offsets(text)


# Bytes that stress readers: valid and broken UTF-8, BOMs, NULs, quotes, separators.
byte_pieces = st.one_of(
    st.binary(max_size=20),
    st.sampled_from([b"\xef\xbb\xbf", b"\xff", b"\xe9", b"\x00", b'"', b",", b"\r", b"\n",
                     b"\r\n", b"{", b"}", b'"text": ', b'"id": ', b'\\ud800', b"[[[[", b"text"]),
    st.text(max_size=10).map(str.encode),
    st.builds(  # whole JSON rows whose text may hold a lone surrogate escape ("\ud800")
        lambda chars: b"\n" + json.dumps({"id": "x", "text": "".join(chars)}).encode() + b"\n",
        st.lists(st.sampled_from(["\ud800", "\udcff", "a", " ", "é", "\x00"]), max_size=5),
    ),
)  # fmt: skip
contents = st.lists(byte_pieces, max_size=40).map(b"".join)


def read_all(inputs: list[str]) -> list:
    from model.inputs import Document, InputError, read_inputs

    items = list(read_inputs(inputs))
    assert all(isinstance(i, Document | InputError) for i in items)
    return items


@FAST
@given(contents, st.sampled_from(["doc.txt", "rows.jsonl", "rows.csv"]), st.booleans())
def test_every_reader_turns_any_bytes_into_documents_or_named_errors(data, name, header):
    import tempfile
    from pathlib import Path

    from model.inputs import InputError

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes((b"id,text\n" if header and name.endswith(".csv") else b"") + data)
        for item in read_all([str(path)]):
            if isinstance(item, InputError):
                assert item.origin.startswith(str(path)) and item.reason
            else:  # what is read can be written: no lone surrogate in text or id
                (item.text + item.id).encode("utf-8")


@FAST
@given(contents)
def test_stdin_turns_any_bytes_into_a_document_or_a_named_error(data):
    import io
    import sys
    from types import SimpleNamespace

    saved = sys.stdin
    sys.stdin = SimpleNamespace(buffer=io.BytesIO(data))
    try:
        [item] = read_all(["-"])
    finally:
        sys.stdin = saved
    assert item.origin == "<stdin>"


sentences = st.fixed_dictionaries(
    {
        "sent_idx": st.integers(0, 10_000),
        "start": st.integers(0, 10**9),
        "end": st.integers(0, 10**9),
        "text": st.text(),
        "techniques": st.lists(st.sampled_from(["doubt", "slogans"]), unique=True),
        "probabilities": st.dictionaries(st.text(max_size=30), st.floats(0, 1), max_size=4),
    },
    optional={"cut": st.just(True)},
)
documents = st.fixed_dictionaries(
    {
        "id": st.text(),
        "origin": st.text(),
        "text": st.text(),
        "sentences": st.lists(sentences, max_size=4),
    }
)


@FAST
@given(st.lists(documents, max_size=5, unique_by=lambda d: d["id"]))
def test_jsonl_output_reads_back_identical(docs):
    import tempfile
    from pathlib import Path

    from model.writers import JsonlWriter, read_previous

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.jsonl"
        writer = JsonlWriter(path, resume=False)
        for doc in docs:
            writer.write(doc)
        writer.close()
        assert read_previous(path) == docs
        resumed = JsonlWriter(path, resume=True)
        resumed.close()
        assert resumed.done == {d["id"] for d in docs}
