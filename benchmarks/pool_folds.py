"""Pool folds that `benchmarks/quality.py --save-probs` kept, from one run or several.

    python benchmarks/pool_folds.py DIR [DIR ...] [--family transformer]

A slow encoder's cross-validation can run a few folds at a time (`quality.py --folds 5
--only-folds 2 3 --save-probs DIR`), on several machines or days; this prints the table
quality.py would have printed for all of them together: each source's held-out
predictions pooled, decided by each fold's own tuned rule, and the span metrics over the
pooled span outcomes (folds saved before span outcomes were kept count in the sentence
table only; the span table then names the folds it covers).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
from quality import print_tables, summary_rows

FOLD_FILE = re.compile(r"(?P<family>\w+)-fold(?P<fold>\d+)\.npz")


def load_fold(path: Path) -> dict:
    """One saved fold as quality.py holds it: each source's (decisions, probabilities,
    gold, mask) on its test split, its span outcomes, and its seconds."""
    from model.decision import decide

    saved = np.load(path)
    sources = sorted(
        key.removesuffix("_test_probs") for key in saved if key.endswith("_test_probs")
    )
    fold = {
        "parts": {},
        "spans": {},
        "train_seconds": float(saved["train_seconds"]) if "train_seconds" in saved else np.nan,
        "wall_seconds": float(saved["wall_seconds"]) if "wall_seconds" in saved else np.nan,
    }
    for source in sources:
        probs = saved[f"{source}_test_probs"]
        decisions = decide(probs, saved["thresholds"], float(saved["any_threshold"]))
        fold["parts"][source] = (
            decisions,
            probs,
            saved[f"{source}_test_gold"],
            saved[f"{source}_test_mask"],
        )
    spans_path = path.with_name(path.stem + "-spans.json")
    if spans_path.is_file():
        for source, kinds in json.loads(spans_path.read_text()).items():
            fold["spans"][source] = {
                kind: ([tuple(s) for s in gold], [tuple(s) for s in predicted], guesses)
                for kind, (gold, predicted, guesses) in kinds.items()
            }
    return fold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    parser.add_argument("--family", default="transformer")
    args = parser.parse_args()
    found: dict[int, Path] = {}
    for directory in args.dirs:
        for path in sorted(directory.glob(f"{args.family}-fold*.npz")):
            fold = int(FOLD_FILE.fullmatch(path.name)["fold"])
            if fold in found:
                sys.exit(f"{path}: fold {fold} is also in {found[fold]}; pool each fold once")
            found[fold] = path
    if not found:
        sys.exit(f"no {args.family}-foldK.npz in {', '.join(map(str, args.dirs))}")
    folds = [load_fold(found[k]) for k in sorted(found)]
    rows, span_rows = summary_rows(args.family, folds)
    span_folds = [k for k, fold in zip(sorted(found), folds, strict=True) if fold["spans"]]
    if span_folds and len(span_folds) < len(folds):
        with_spans = [fold for fold in folds if fold["spans"]]
        span_rows = summary_rows(args.family, with_spans)[1]
        print(f"(span outcomes were saved for folds {', '.join(map(str, span_folds))} only)")
    heading = f"folds {', '.join(map(str, sorted(found)))} pooled, from {len(args.dirs)} folder(s)"
    print_tables(heading, rows, span_rows, len(folds) > 1)


if __name__ == "__main__":
    main()
