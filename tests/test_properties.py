"""Properties that must hold for any input, checked on generated text and bytes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.segment import MAX_SENTENCE, WINDOW, segment

# Bounded for two shared cores: few, small examples; no deadline (the machine is busy).
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that have broken segmenters: line ends of every kind, controls, bidi marks,
# zero-width joiners, emoji, combining marks, sentence ends and abbreviations.
AWKWARD = [
    "\r\n", "\r", "\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\x00", "\t",
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
def test_segment_offsets_hold_for_any_text(text):
    check_offsets(text)


@settings(FAST, max_examples=25)
@given(long_lines)
def test_segment_offsets_hold_for_long_lines(text):
    check_offsets(text)
