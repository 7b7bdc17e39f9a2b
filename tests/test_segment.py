"""Segmentation of real-looking news text: boundaries and offsets into the original."""

import pytest

from model.segment import segment

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
