"""The Predictor's contract: windows for long sentences, offsets, all probabilities."""

import shutil

import numpy as np
import pytest

from model.classifier import HEAD_FILE
from model.predictor import Predictor


def test_long_sentences_are_scored_in_windows(trained):
    predictor = Predictor(trained["transformer"].folder)
    scorer = predictor.scorer
    long = "The reckless traitors " + "met again and again in the hall, " * 60 + "and then left."
    encoded = scorer.windows([long])
    windows, owners = encoded["input_ids"], encoded["overflow_to_sample_mapping"]
    assert len(windows) > 1 and set(owners) == {0}
    assert all(len(w) <= scorer.max_length for w in windows)
    # Windows overlap by half; without the overlap, their bodies (inside [CLS] ... [SEP])
    # are the sentence's tokens, all of them, in order: nothing is truncated away.
    body = scorer.tokenizer(long, add_special_tokens=False)["input_ids"]
    overlap = (scorer.max_length - scorer.tokenizer.num_special_tokens_to_add()) // 2
    rebuilt = windows[0][1:-1] + [t for w in windows[1:] for t in w[1:-1][overlap:]]
    assert rebuilt == body
    # The sentence's probability is the highest of its windows'.
    encoded = scorer.tokenizer.pad({"input_ids": windows}, return_tensors="pt")
    per_window = scorer.torch.sigmoid(scorer.model(**encoded).logits).detach().numpy()
    np.testing.assert_allclose(predictor.predict_proba([long])[0], per_window.max(0), atol=1e-5)


def test_score_returns_offsets_and_every_probability(trained):
    predictor = Predictor(trained["baseline"].folder)
    text = "Title line\n\nFirst sentence here. Second one, with 3.5 per cent.\n"
    (doc,) = predictor.score([text])
    assert [s["text"] for s in doc] == [
        "Title line",
        "First sentence here.",
        "Second one, with 3.5 per cent.",
    ]
    for s in doc:
        assert text[s["start"] : s["end"]] == s["text"]
        assert set(s["probabilities"]) == set(predictor.techniques)
        probs = s["probabilities"]
        top = max(probs, key=probs.get)
        for t in s["techniques"]:  # over its threshold, or the top one under the rule's
            assert probs[t] >= predictor.meta.thresholds[t] or (
                t == top and probs[t] >= predictor.meta.any_threshold
            )


def test_transformer_folder_without_its_head_says_what_to_do(trained, tmp_path):
    folder = tmp_path / "old-model"
    shutil.copytree(trained["transformer"].folder, folder)
    (folder / HEAD_FILE).unlink()
    with pytest.raises(FileNotFoundError, match="head.safetensors.*train it again"):
        Predictor(folder)
