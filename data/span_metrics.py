"""Technique-span metrics: SI and TC of SemEval-2020 task 11, FLC of NLP4IF-2019.

A span is `(article_id, technique_id, start, end)`: character offsets into the article,
end exclusive, so a span covers `end - start` characters. Gold comes first, predictions
second, as in scikit-learn. Each function returns a flat dict of floats whose keys are
MLflow metric names.

Where this follows the organisers' scorers (Da San Martino et al., `tools/task-SI_scorer.py`
and `tools/task-TC_scorer.py` of SemEval-2020 task 11, `tools/task-FLC_scorer.py` of
NLP4IF-2019; both partial-overlap scorers share `compute_score_pr` and
`compute_prec_rec_f1`):

- Partial-overlap credit. Precision = (1/|S|) * sum over predicted s and gold t of
  |s ∩ t| / |s|; recall = (1/|T|) * the same sum with |s ∩ t| / |t|. Only pairs of the same
  article meet; sums and counts run over the whole corpus (not an average of per-article
  scores). |x ∩ y| counts shared characters, as the scorers' `set(range(start, end))` does.
- SI ignores the technique. The SI scorer first merges the gold spans of an article that
  share a character into one fragment (PTC's technique labels overlap, and the official SI
  gold is their union: on the PTC training copy the merged TC labels equal the merged SI
  labels, article by article). Spans that only touch (one ends where the next starts)
  share no character and stay apart.
- FLC credits a pair only when the techniques match, and merges overlapping spans of the
  same technique (never of different ones).
- Predicted spans are merged the same way. The scorers refuse overlapping predictions
  unless run with `-m` (merge user annotations), which merges them exactly like the gold;
  we always merge, since a span head emits overlapping spans of different techniques that
  SI cannot tell apart.
- Empty cases (`compute_prec_rec_f1`): precision is 0 with no predictions, recall 0 with
  no gold; F1 is 1.0 when there is neither, else 2PR/(P+R) when both are above 0, else 0.
- Gold spans of articles without predictions still count in |T|: the recall denominator
  sums every gold article.
- Predictions on an article without gold spans count in |S| and earn nothing, as in the
  FLC scorer (it reads one labels file per article, empty for clean ones). Not confirmed
  for the SI scorer: it reads gold from one labels file, where such an article is absent,
  and looks each submitted article up in it, so it would fail rather than score one.
- TC: the official scorer takes exactly the gold spans back, each with one technique, and
  scores scikit-learn's micro F1 (equal to accuracy, one label per span) and per-technique
  F1. Gold spans with equal offsets in one article (PTC has such pairs with different
  techniques) are first aligned with the predictions for those offsets to maximise
  matches (`align_annotations`); counting matches per offsets, as `tc_scores` does, gives
  the same figures whatever the order. Our own choice, not the scorer's: with no gold
  spans at all `tc_micro_f1` is 1.0, like SI and FLC with nothing on either side.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

Span = tuple[str, str, int, int]
Interval = tuple[int, int]


def check_offsets(span: Span) -> None:
    """Refuse a span that covers no characters: it would divide by zero in the credit."""
    _, _, start, end = span
    if not 0 <= start < end:
        raise ValueError(f"span {span!r}: offsets need 0 <= start < end")


def merge_overlapping(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of intervals that share a character, sorted; touching intervals stay apart."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def fragments(spans: Iterable[Span], by_technique: bool) -> dict[tuple[str, ...], list[Interval]]:
    """Merged intervals per article (SI) or per article and technique (FLC)."""
    groups: dict[tuple[str, ...], list[Interval]] = defaultdict(list)
    for span in spans:
        check_offsets(span)
        article_id, technique, start, end = span
        groups[(article_id, technique) if by_technique else (article_id,)].append((start, end))
    return {key: merge_overlapping(intervals) for key, intervals in groups.items()}


def harmonic_f1(precision: float, recall: float, nothing_on_either_side: bool) -> float:
    if nothing_on_either_side:
        return 1.0
    if precision > 0 and recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def overlap_scores(
    gold: dict[tuple[str, ...], list[Interval]], predicted: dict[tuple[str, ...], list[Interval]]
) -> tuple[float, float, float]:
    """Partial-overlap precision, recall and F1 of fragments that meet only under one key."""
    precision_credit = recall_credit = 0.0
    for key, pred_intervals in predicted.items():
        for s_start, s_end in pred_intervals:
            for t_start, t_end in gold.get(key, ()):
                shared = min(s_end, t_end) - max(s_start, t_start)
                if shared > 0:
                    precision_credit += shared / (s_end - s_start)
                    recall_credit += shared / (t_end - t_start)
    n_pred = sum(len(intervals) for intervals in predicted.values())
    n_gold = sum(len(intervals) for intervals in gold.values())
    precision = precision_credit / n_pred if n_pred else 0.0
    recall = recall_credit / n_gold if n_gold else 0.0
    return precision, recall, harmonic_f1(precision, recall, not n_pred and not n_gold)


def si_scores(gold: Iterable[Span], predicted: Iterable[Span]) -> dict[str, float]:
    """Span identification: where the propaganda is, whatever its technique."""
    p, r, f1 = overlap_scores(fragments(gold, False), fragments(predicted, False))
    return {"si_precision": p, "si_recall": r, "si_f1": f1}


def flc_scores(gold: Iterable[Span], predicted: Iterable[Span]) -> dict[str, float]:
    """Fragment-level classification: where each technique is."""
    p, r, f1 = overlap_scores(fragments(gold, True), fragments(predicted, True))
    return {"flc_precision": p, "flc_recall": r, "flc_f1": f1}


def tc_scores(gold: Sequence[Span], predicted: Sequence[str]) -> dict[str, float]:
    """Technique classification: `predicted[i]` is the technique given to gold span i.

    Returns `tc_micro_f1` and `tc_f1_<technique>` for every technique in gold or predictions.
    """
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predicted techniques for {len(gold)} gold spans")
    if not gold:
        return {"tc_micro_f1": 1.0}
    at_offsets: dict[tuple[str, int, int], tuple[Counter, Counter]] = defaultdict(
        lambda: (Counter(), Counter())
    )
    for (article_id, technique, start, end), guess in zip(gold, predicted, strict=True):
        gold_here, pred_here = at_offsets[(article_id, start, end)]
        gold_here[technique] += 1
        pred_here[guess] += 1
    correct: Counter = Counter()
    for gold_here, pred_here in at_offsets.values():
        correct += gold_here & pred_here
    gold_n = Counter(technique for _, technique, _, _ in gold)
    pred_n = Counter(predicted)
    scores = {"tc_micro_f1": correct.total() / len(gold)}
    for tech in sorted(gold_n | pred_n):
        scores[f"tc_f1_{tech}"] = 2 * correct[tech] / (gold_n[tech] + pred_n[tech])
    return scores
