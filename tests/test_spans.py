"""Technique spans: token targets, decoding, the span head's output and its model folder."""

import json
import shutil

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from model.classifier import SPAN_HEAD_FILE, TECHNIQUE_HEAD_FILE
from model.meta import META_FILE
from model.predictor import Predictor
from model.spans import (
    decode_spans,
    span_token_ranges,
    span_tokens,
    token_targets,
    whole_word,
)

# "Corrupt elites lie." tokens: Corrupt 0-7, elites 8-14, lie 15-18, . 18-19
OFFSETS = np.array([(0, 7), (8, 14), (15, 18), (18, 19)])


def test_a_token_is_in_a_span_when_they_share_a_character():
    spans = [(1, 3, 14), (0, 18, 19)]  # technique 1 over "rupt elites", technique 0 over "."
    targets = token_targets([(0, 0), *OFFSETS.tolist(), (0, 0)], spans, 2)
    assert targets[:, 1].tolist() == [0, 1, 1, 0, 0, 0]  # special tokens never
    assert targets[:, 0].tolist() == [0, 0, 0, 0, 1, 0]


def test_a_span_covers_the_tokens_it_shares_a_character_with():
    offsets = [(0, 0), *OFFSETS.tolist(), (0, 0)]
    # technique 1 over "rupt elites": tokens 1-2; technique 0 over characters past the text
    assert span_token_ranges(offsets, [(1, 3, 14), (0, 30, 40)]) == [[1, 1, 3]]
    assert span_tokens(offsets, 3, 14) == slice(1, 3)
    assert span_tokens(offsets, 30, 40) is None


def test_runs_over_the_threshold_become_character_spans():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.3], [0.7, 0.1]])
    spans = decode_spans(probs, OFFSETS, np.array([0.5, 0.5]))
    # technique 0: tokens 0-1 (0..14, max 0.9) and token 3 (18..19); technique 1: nothing
    assert spans == [(0, 0, 14, 0.9), (0, 18, 19, 0.7)]


def test_a_run_grows_over_neighbours_at_half_its_threshold():
    probs = np.array([[0.3], [0.9], [0.2], [0.4]])
    # Corrupt (0.3 >= 0.25) joins elites (0.9); lie (0.2) ends the run; "." (0.4) is over
    # half the threshold but holds no token over it: no span
    assert decode_spans(probs, OFFSETS, np.array([0.5])) == [(0, 0, 14, 0.9)]


def test_a_reported_technique_always_shows_its_most_likely_run():
    probs = np.array([[0.1, 0.1], [0.3, 0.2], [0.2, 0.3], [0.05, 0.1]])
    reported = np.array([True, False])
    spans = decode_spans(probs, OFFSETS, np.array([0.5, 0.5]), reported)
    # nothing reaches 0.5; the best token (elites, 0.3) and neighbours >= 0.15 (Corrupt is
    # 0.1: out; lie 0.2: in) make the run 8..18; technique 1 is not reported: no span
    assert spans == [(0, 8, 18, pytest.approx(0.3))]


def test_a_span_shows_whole_words_never_a_word_piece():
    text = "They fear escalation now"
    # tokens: They 0-4, fear 5-9, es 10-12, ##cal 12-15, ##ation 15-20, now 21-24
    pieces = [(0, 4), (5, 9), (10, 12), (12, 15), (15, 20), (21, 24)]
    words = [whole_word(text, start, end) for start, end in pieces]
    assert words == [(0, 4), (5, 9), (10, 20), (10, 20), (10, 20), (21, 24)]
    ends_of_a_word = np.array([[0.1], [0.1], [0.1], [0.1], [0.9], [0.1]])  # only "ation"
    (span,) = decode_spans(ends_of_a_word, words, np.array([0.5]))
    assert text[span[1] : span[2]] == "escalation"
    two_runs_in_one_word = np.array([[0.1], [0.1], [0.8], [0.2], [0.9], [0.1]])
    assert decode_spans(two_runs_in_one_word, words, np.array([0.5])) == [(0, 10, 20, 0.9)]
    # "fear es" and "ation now" share "escalation": one span, "fear escalation now"
    sharing_a_word = np.array([[0.1], [0.7], [0.6], [0.2], [0.8], [0.9]])
    assert decode_spans(sharing_a_word, words, np.array([0.5])) == [(0, 5, 24, 0.9)]


@pytest.fixture(scope="module")
def predictor(trained):
    return Predictor(trained["transformer"].folder)


def test_spans_index_the_input_and_match_the_reported_techniques(predictor):
    text = (
        "Headline\n\nThe corrupt elites have betrayed every one of us, again and again. "
        "Everyone knows the truth. The council meets on Tuesday."
    )
    (doc,) = predictor.score([text])
    assert predictor.has_spans
    for sentence in doc:
        for span in sentence["spans"]:
            assert text[span["start"] : span["end"]] == span["text"]
            assert sentence["start"] <= span["start"] < span["end"] <= sentence["end"]
        assert {s["technique"] for s in sentence["spans"]} == set(sentence["techniques"])


def test_a_folder_without_a_span_head_scores_with_empty_spans(predictor, tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(predictor.folder, folder)
    (folder / SPAN_HEAD_FILE).unlink()
    meta = json.loads((folder / META_FILE).read_text())
    meta["span_thresholds"] = None
    (folder / META_FILE).write_text(json.dumps(meta, indent=2))
    old = Predictor(folder)
    (doc,) = old.score(["They lie. Everyone knows it."])
    assert not old.has_spans and all(s["spans"] == [] for s in doc)
    expected = predictor.predict_proba([s["text"] for s in doc])
    np.testing.assert_allclose(
        [list(s["probabilities"].values()) for s in doc], expected, atol=1e-4
    )


def test_a_malformed_span_section_names_file_and_line(predictor, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(predictor.folder, folder)
    meta = json.loads((folder / META_FILE).read_text())
    meta["span_thresholds"]["doubt"] = "high"
    (folder / META_FILE).write_text(json.dumps(meta, indent=2))
    line = next(
        i
        for i, row in enumerate((folder / META_FILE).read_text().splitlines(), 1)
        if "span_thresholds" in row
    )
    with pytest.raises(ValueError, match=rf"{META_FILE}:{line}: span_thresholds of doubt"):
        Predictor(folder)


def test_training_logs_span_metrics_and_thresholds(trained):
    metrics = MlflowClient().get_run(trained["transformer"].run_id).data.metrics
    assert {"si_f1", "flc_f1", "tc_micro_f1"} <= set(metrics)
    assert all(0 <= metrics[k] <= 1 for k in ("si_f1", "flc_f1", "tc_micro_f1"))
    assert "span_threshold/name_calling" in metrics
    assert "si_f1" not in MlflowClient().get_run(trained["baseline"].run_id).data.metrics


def test_the_technique_head_names_the_training_spans(predictor, small_data):
    """Training fits a technique head and saves it; on the spans it was fitted on it names
    the right technique more often than always naming the commonest one would."""
    from collections import Counter

    from data.records import annotated_techniques
    from data.sources import load_specs
    from data.splits import split_records
    from training.span_scores import gold_spans, technique_of_each_gold_span

    assert (predictor.folder / TECHNIQUE_HEAD_FILE).is_file()
    records = [r for r in split_records(load_specs(small_data))["train"] if r["spans"]][:300]
    _, tokens = predictor.predict([r["text"] for r in records])
    guesses = technique_of_each_gold_span(predictor, records, tokens)
    gold = [technique for _, technique, _, _ in gold_spans(records)]
    sources = [r["source"] for r in records for _ in r["spans"]]
    assert all(g in annotated_techniques(s) for g, s in zip(guesses, sources, strict=True))
    right = sum(g == t for g, t in zip(guesses, gold, strict=True)) / len(gold)
    assert right > Counter(gold).most_common(1)[0][1] / len(gold)


def test_scoring_writes_spans_as_a_semeval_submission(predictor, tmp_path):
    """`--out F.tsv` on a PTC-style folder: every line reads back against its article."""
    from data.semeval import read_submission
    from model.batch import score_inputs
    from model.writers import article_id

    folder = tmp_path / "articles"
    folder.mkdir()
    texts = {
        "111": "Title\n\nThe corrupt elites lie to you. Everyone knows it.\n",
        "222": "Only the council met on Tuesday.\n",
    }
    for article, text in texts.items():
        (folder / f"article{article}.txt").write_text(text, encoding="utf-8")
    out, tsv = tmp_path / "scores.jsonl", tmp_path / "submission.tsv"
    score_inputs([str(folder)], predictor, [out, tsv], progress=False)
    spans = read_submission(tsv, texts)  # names FILE:LINE if a span leaves its article
    shown = [
        (doc["id"], span)
        for doc in map(json.loads, out.read_text().splitlines())
        for sentence in doc["sentences"]
        for span in sentence["spans"]
        if span["technique"] not in {"unsupported_claim", "denial"}
    ]
    assert len(spans) == len(shown)
    assert {(s[0], s[2], s[3]) for s in spans} == {
        (article_id(doc_id), span["start"], span["end"]) for doc_id, span in shown
    }
    assert {s[0] for s in spans} <= set(texts)
