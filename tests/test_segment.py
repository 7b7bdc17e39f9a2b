"""Segmentation of real-looking news text: boundaries and offsets into the original."""

import time

import pytest

from model.segment import MAX_SENTENCE, WINDOW, segment

CASES = {
    "abbreviations": (
        "Mr. Smith met the U.S. envoy at No. 10 Downing St. on Monday. He left at 3 p.m.",
        ["Mr. Smith met the U.S. envoy at No. 10 Downing St. on Monday.", "He left at 3 p.m."],
    ),
    "decimals and ellipsis": (
        "Prices rose 3.5 per cent in May... Analysts were surprised.",
        ["Prices rose 3.5 per cent in May...", "Analysts were surprised."],
    ),
    "headline and byline without full stops": (
        "Storm hits the coast\nBy Jane Doe, Staff Writer\n\n"
        "The storm arrived at dawn. It was fierce.",
        [
            "Storm hits the coast",
            "By Jane Doe, Staff Writer",
            "The storm arrived at dawn.",
            "It was fierce.",
        ],
    ),
    "quotes": (
        "“We will fight,” he said. “Nobody can stop us.” Then he left.",
        ["“We will fight,” he said.", "“Nobody can stop us.”", "Then he left."],
    ),
    "bullets": (
        "Key points:\n- First point here.\n* Second point here.\n1. Third point.",
        ["Key points:", "First point here.", "Second point here.", "Third point."],
    ),
    "windows line ends and indentation": (
        "Title line\r\n\r\n   An indented sentence. Another one.\r\n",
        ["Title line", "An indented sentence.", "Another one."],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_hard_cases(name):
    text, expected = CASES[name]
    sentences = segment(text)
    assert [s.text for s in sentences] == expected
    for s in sentences:
        assert text[s.start : s.end] == s.text


def test_very_long_sentence_is_kept_whole():
    text = "The committee, " + "which met again and again, " * 200 + "finally agreed."
    sentences = segment(text)
    assert len(sentences) == 1 and sentences[0].text == text


def test_offsets_on_real_articles():
    from tests.conftest import SHARED

    folder = SHARED / "data" / "unlabeled" / "openwebtext-articles"
    if not folder.is_dir():
        pytest.skip("unlabeled articles not available")
    for path in sorted(folder.glob("*.txt"))[:40]:
        text = path.read_text(encoding="utf-8")
        sentences = segment(text)
        assert sentences
        for s in sentences:
            assert text[s.start : s.end] == s.text and s.text.strip() == s.text


def in_order(text, sentences):
    """Offsets exact, sentences non-empty, in order and not overlapping."""
    previous_end = 0
    for s in sentences:
        assert text[s.start : s.end] == s.text and s.start < s.end
        assert s.start >= previous_end
        previous_end = s.end
    return True


def test_sentences_across_window_edges_are_found_whole():
    """A paragraph many windows long splits exactly where its sentences end."""
    expected = [f"Report {i} says the council met {i % 7} times in May." for i in range(400)]
    text = " ".join(expected)
    assert len(text) > 9 * WINDOW
    sentences = segment(text)
    assert [s.text for s in sentences] == expected and in_order(text, sentences)
    assert not any(s.cut for s in sentences)


@pytest.mark.parametrize("punctuation", [True, False])
def test_a_long_line_is_segmented_in_linear_time(punctuation):
    """300,000 characters on one line: seconds (pysbd alone on the line takes minutes)."""
    words = ["the", "council", "met", "again", "and", "voted", "on", "budget"]
    tokens = [words[i % 8] + ("." if punctuation and i % 13 == 12 else "") for i in range(60_000)]
    text = " ".join(tokens)
    started = time.perf_counter()
    sentences = segment(text)
    assert time.perf_counter() - started < 20
    assert in_order(text, sentences)
    assert max(len(s.text) for s in sentences) <= MAX_SENTENCE


def test_a_run_on_line_is_cut_into_flagged_pieces_that_keep_every_word():
    text = "  " + " ".join(f"word{i}" for i in range(5_000)) + "  "  # 38,890 characters
    sentences = segment(text)
    assert len(sentences) > 1 and all(s.cut for s in sentences)
    assert all(len(s.text) <= MAX_SENTENCE for s in sentences) and in_order(text, sentences)
    assert " ".join(s.text for s in sentences) == text.strip()


def test_a_sentence_too_long_is_cut_but_its_neighbours_are_not():
    long = " ".join(["and then"] * 1_000) + "."  # 8,999 characters
    text = f"It began. {long} It ended."
    sentences = segment(text)
    assert sentences[0].text == "It began." and sentences[-1].text == "It ended."
    assert not sentences[0].cut and not sentences[-1].cut
    middle = sentences[1:-1]
    assert len(middle) == 2 and all(s.cut for s in middle) and in_order(text, sentences)
    assert " ".join(s.text for s in middle) == long
