"""SemEval-2020 task 11 submission files and the SI / FLC / TC span metrics.

Every expected figure below is worked out by hand in the comment beside it:
P = sum |s∩t|/|s| / |S|, R = sum |s∩t|/|t| / |T|, F1 = 2PR/(P+R).
"""

import pytest

from data.ptc import LABELS_FILE, PTCError, read_articles
from data.semeval import read_submission, write_submission
from data.span_metrics import flc_scores, fragments, si_scores, tc_scores
from tests.conftest import PTC_DIR

LL, NC, DOUBT = "loaded_language", "name_calling", "doubt"


def scores(gold, predicted):
    return si_scores(gold, predicted) | flc_scores(gold, predicted)


def assert_prf(result, prefix, precision, recall, f1):
    got = (result[f"{prefix}_precision"], result[f"{prefix}_recall"], result[f"{prefix}_f1"])
    assert got == pytest.approx((precision, recall, f1))


# --- metrics on hand-made cases -------------------------------------------------------


def test_exact_match():
    gold = [("a", LL, 0, 10)]
    result = scores(gold, gold)
    # P = (10/10)/1 = 1, R = (10/10)/1 = 1, F1 = 1, for SI and FLC alike.
    assert_prf(result, "si", 1, 1, 1)
    assert_prf(result, "flc", 1, 1, 1)


def test_partial_overlap():
    gold = [("a", LL, 0, 10)]
    predicted = [("a", LL, 5, 25)]
    result = scores(gold, predicted)
    # |s∩t| = 5 (characters 5-9); P = 5/20 = 0.25, R = 5/10 = 0.5,
    # F1 = 2 * 0.25 * 0.5 / 0.75 = 1/3.
    assert_prf(result, "si", 0.25, 0.5, 1 / 3)
    assert_prf(result, "flc", 0.25, 0.5, 1 / 3)


def test_one_prediction_covering_two_gold_spans():
    gold = [("a", LL, 0, 10), ("a", LL, 20, 30)]
    predicted = [("a", LL, 0, 40)]
    result = scores(gold, predicted)
    # P = (10/40 + 10/40) / 1 = 0.5, R = (10/10 + 10/10) / 2 = 1, F1 = 2 * 0.5 / 1.5 = 2/3.
    assert_prf(result, "si", 0.5, 1, 2 / 3)
    assert_prf(result, "flc", 0.5, 1, 2 / 3)


def test_overlapping_gold_of_different_techniques():
    gold = [("a", LL, 0, 10), ("a", NC, 5, 20)]
    predicted = [("a", LL, 0, 10), ("a", NC, 10, 20)]
    result = scores(gold, predicted)
    # SI merges the gold into one fragment 0-20; the predictions only touch at 10, share no
    # character, and stay two: P = (10/10 + 10/10) / 2 = 1, R = (10/20 + 10/20) / 1 = 1.
    assert_prf(result, "si", 1, 1, 1)
    # FLC keeps the techniques apart: LL 0-10 vs LL 0-10 gives 10/10 and 10/10;
    # NC 10-20 vs NC 5-20 gives 10/10 and 10/15. P = 2/2 = 1, R = (1 + 2/3) / 2 = 5/6,
    # F1 = 2 * 5/6 / (11/6) = 10/11.
    assert_prf(result, "flc", 1, 5 / 6, 10 / 11)


def test_touching_gold_spans_stay_apart():
    gold = [("a", LL, 0, 10), ("a", NC, 10, 30)]
    predicted = [("a", LL, 0, 10)]
    # No character is shared, so SI keeps two gold fragments:
    # P = (10/10 + 0) / 1 = 1, R = (10/10 + 0/20) / 2 = 0.5, F1 = 2 * 0.5 / 1.5 = 2/3.
    # (Merged into 0-30 it would be R = 10/30.)
    assert_prf(si_scores(gold, predicted), "si", 1, 0.5, 2 / 3)


def test_overlapping_predictions_of_one_technique_are_merged():
    gold = [("a", LL, 0, 15)]
    predicted = [("a", LL, 0, 10), ("a", LL, 5, 15), ("a", LL, 5, 15)]
    # The three merge into 0-15 (the scorers' -m): P = 15/15 = 1, R = 15/15 = 1.
    # Unmerged, R would be (10/15 + 10/15 + 10/15) / 1 = 2.
    assert_prf(scores(gold, predicted), "flc", 1, 1, 1)
    assert_prf(scores(gold, predicted), "si", 1, 1, 1)


def test_wrong_technique_gets_si_credit_but_no_flc_credit():
    gold = [("a", LL, 0, 10)]
    predicted = [("a", DOUBT, 0, 10)]
    result = scores(gold, predicted)
    # SI: P = 10/10 = 1, R = 10/10 = 1. FLC: no pair of equal techniques, P = 0/1, R = 0/1.
    assert_prf(result, "si", 1, 1, 1)
    assert_prf(result, "flc", 0, 0, 0)


def test_no_predictions():
    gold = [("a", LL, 0, 10)]
    # |S| = 0 so P = 0; R = 0/1 = 0; F1 = 0.
    result = scores(gold, [])
    assert_prf(result, "si", 0, 0, 0)
    assert_prf(result, "flc", 0, 0, 0)


def test_no_gold():
    # P = 0/1 = 0; |T| = 0 so R = 0; F1 = 0.
    result = scores([], [("a", LL, 0, 10)])
    assert_prf(result, "si", 0, 0, 0)
    assert_prf(result, "flc", 0, 0, 0)
    # Nothing on either side: P = R = 0 by convention and F1 = 1.
    assert_prf(scores([], []), "si", 0, 0, 1)
    assert_prf(scores([], []), "flc", 0, 0, 1)


def test_several_articles():
    gold = [("a", LL, 0, 10), ("b", NC, 0, 20), ("c", DOUBT, 5, 15)]
    predicted = [("a", LL, 0, 10), ("b", NC, 5, 25), ("d", LL, 0, 5)]
    result = scores(gold, predicted)
    # a: 10/10 and 10/10. b: |s∩t| = 15, 15/20 and 15/20. d has no gold: 0, but counts in
    # |S|. c has no prediction: 0, but counts in |T|. Offsets of different articles never
    # meet (b's 5-25 against a's 0-10 would share 5 characters).
    # P = (1 + 0.75 + 0) / 3 = 7/12, R = (1 + 0.75 + 0) / 3 = 7/12, F1 = 7/12.
    assert_prf(result, "si", 7 / 12, 7 / 12, 7 / 12)
    assert_prf(result, "flc", 7 / 12, 7 / 12, 7 / 12)


def test_a_span_without_characters_is_refused():
    with pytest.raises(ValueError, match=r"offsets need 0 <= start < end"):
        si_scores([("a", LL, 0, 10)], [("a", LL, 5, 5)])


def test_technique_classification():
    gold = [("a", LL, 0, 10), ("a", NC, 20, 30), ("b", DOUBT, 0, 5), ("b", LL, 0, 5)]
    predicted = [LL, LL, LL, DOUBT]
    result = tc_scores(gold, predicted)
    # b 0-5 is gold twice (DOUBT, LL) and predicted (LL, DOUBT): aligned like the official
    # scorer, both are right. a 20-30 NC -> LL is wrong. Micro F1 = 3/4.
    # Per technique, F1 = 2 TP / (gold + predicted): LL 2*2/(2+3) = 0.8,
    # NC 0/(1+0) = 0, DOUBT 2*1/(1+1) = 1.
    assert result == pytest.approx(
        {
            "tc_micro_f1": 0.75,
            "tc_f1_loaded_language": 0.8,
            "tc_f1_name_calling": 0.0,
            "tc_f1_doubt": 1.0,
        }
    )


def test_technique_classification_keeps_articles_apart():
    # Same offsets, different articles: no alignment across them, 0 of 2 right.
    result = tc_scores([("a", LL, 0, 5), ("b", DOUBT, 0, 5)], [DOUBT, LL])
    assert result["tc_micro_f1"] == 0.0


def test_technique_classification_needs_one_prediction_per_gold_span():
    with pytest.raises(ValueError, match=r"1 predicted techniques for 2 gold spans"):
        tc_scores([("a", LL, 0, 5), ("a", NC, 6, 9)], [LL])
    assert tc_scores([], []) == {"tc_micro_f1": 1.0}


# --- the submission format ---------------------------------------------------------------


def test_submission_round_trip(tmp_path):
    path = tmp_path / "sub.tsv"
    spans = [("111", NC, 3, 9), ("111", LL, 0, 20), ("222", "whataboutism", 4, 8)]
    assert write_submission(path, spans) == 3
    assert path.read_text(encoding="utf-8") == (
        "111\tName_Calling,Labeling\t3\t9\n"
        "111\tLoaded_Language\t0\t20\n"
        "222\tWhataboutism,Straw_Men,Red_Herring\t4\t8\n"
    )
    assert read_submission(path) == spans


def test_techniques_ptc_lacks_are_left_out(tmp_path):
    path = tmp_path / "sub.tsv"
    spans = [("111", "unsupported_claim", 0, 5), ("111", LL, 0, 5), ("111", "denial", 6, 9)]
    assert write_submission(path, spans) == 1
    assert read_submission(path) == [("111", LL, 0, 5)]


@pytest.mark.parametrize(
    "bad_span, message",
    [
        (("111", "gaslighting", 0, 5), r"unknown technique 'gaslighting'"),
        (("111", "Loaded_Language", 0, 5), r"unknown technique 'Loaded_Language'"),
        (("111", LL, 5, 5), r"offsets need 0 <= start < end"),
        (("1\t11", LL, 0, 5), r"article id must be non-empty, without tabs"),
    ],
)
def test_writer_refuses_a_bad_span_and_keeps_the_old_file(tmp_path, bad_span, message):
    path = tmp_path / "sub.tsv"
    path.write_text("earlier submission\n")
    with pytest.raises(ValueError, match=message):
        write_submission(path, [("111", LL, 0, 5), bad_span])
    assert path.read_text() == "earlier submission\n"


ARTICLES = {"111": "Un café à Paris", "222": "Second article text."}  # 15 and 20 characters


@pytest.mark.parametrize(
    "line, message",
    [
        ("111\tLoaded_Language\t3", r"expected 4 tab-separated columns, found 3"),
        ("111 Loaded_Language 3 9", r"expected 4 tab-separated columns, found 1"),
        ("111\tLoaded_Language\tthree\t9", r"offsets 'three', '9' are not integers"),
        ("111\tLoaded_Language\t9\t9", r"span 9-9 is empty or reversed"),
        ("111\tLoaded_Language\t9\t3", r"span 9-3 is empty or reversed"),
        ("111\tLoaded_Language\t-1\t3", r"span -1-3 is empty or reversed"),
        ("111\tloaded_language\t3\t9", r"unknown technique 'loaded_language'"),
        ("333\tLoaded_Language\t3\t9", r"no article 333 in the articles"),
        # 16 > 15 characters, though the article is 17 bytes long in UTF-8.
        ("111\tLoaded_Language\t10\t16", r"span 10-16 lies outside article 111 \(15 characters\)"),
    ],
)
def test_reader_names_file_and_line_of_a_bad_line(tmp_path, line, message):
    path = tmp_path / "sub.tsv"
    path.write_text(f"222\tDoubt\t0\t6\n\n{line}\n", encoding="utf-8")
    with pytest.raises(PTCError, match=rf"sub\.tsv:3: {message}"):
        read_submission(path, ARTICLES)


def test_reader_checks_articles_only_when_given(tmp_path):
    path = tmp_path / "sub.tsv"
    path.write_text("333\tDoubt\t10\t400\n111\tSlogans\t10\t15\n", encoding="utf-8")
    assert read_submission(path) == [("333", DOUBT, 10, 400), ("111", "slogans", 10, 15)]


# --- the real PTC copy -------------------------------------------------------------------


@pytest.fixture(scope="module")
def ptc_gold():
    if not PTC_DIR.is_dir():
        pytest.skip(f"PTC corpus not found at {PTC_DIR}")
    articles = read_articles(PTC_DIR)
    return articles, read_submission(PTC_DIR / LABELS_FILE, articles)


def test_ptc_gold_scores_perfectly_against_itself(ptc_gold):
    _, gold = ptc_gold
    assert len(gold) == 6129
    result = scores(gold, gold)
    assert_prf(result, "si", 1, 1, 1)
    assert_prf(result, "flc", 1, 1, 1)
    assert tc_scores(gold, [technique for _, technique, _, _ in gold])["tc_micro_f1"] == 1.0


def test_ptc_technique_labels_are_the_si_labels_once_merged(ptc_gold):
    """The official SI gold is the union of the technique spans: scoring one against the
    other is perfect only because SI merges overlapping spans (the SI file has overlaps)."""
    _, gold = ptc_gold
    rows = (PTC_DIR / "train-task1-SI.labels").read_text(encoding="utf-8").splitlines()
    si_gold = [(a, LL, int(s), int(e)) for a, s, e in (row.split("\t") for row in rows if row)]
    merged = sum(len(intervals) for intervals in fragments(si_gold, False).values())
    assert (len(si_gold), merged) == (5468, 5397)
    assert_prf(si_scores(si_gold, gold), "si", 1, 1, 1)


def test_writer_reproduces_the_ptc_labels_file(ptc_gold, tmp_path):
    articles, gold = ptc_gold
    path = tmp_path / "sub.tsv"
    assert write_submission(path, gold) == len(gold)
    assert path.read_bytes() == (PTC_DIR / LABELS_FILE).read_bytes()
    assert read_submission(path, articles) == gold
