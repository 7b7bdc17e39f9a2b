"""Do bf16 and int8 decide as fp32 does? The precisions of one model on a held-out test split.

    python benchmarks/precision_guard.py --model FOLDER_OR_URI [--ptc DIR]
        [--split-ratios 0.8 0.1 0.1] [--split-offset X] [--precisions bf16 int8]

FOLDER is a transformer trained without that split's documents: `benchmarks/quality.py
--families transformer` trains one on the default split and prints where it kept it (the
split here must be the one it was trained with: ratios 0.8/0.1/0.1, offset 0 unless
--split-ratios and --split-offset say otherwise; fold k of `--folds 5` is 0.7 0.1 0.2 with
offset 0.2 * (k - 1)). Prints micro/macro-F1 of each precision, and for each reduced one
how many sentences keep every technique decision, each technique's agreement, and the
mean change in probability. Guard (issue #17): micro-F1 within 0.005 of fp32, and each
technique's decisions the same on >= 98% of the sentences. Speed is compared side by side
in benchmarks/throughput.py.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PTC = ROOT.parent / "shared" / "data" / "ptc-2020-train"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="propscan transformer folder or URI")
    parser.add_argument("--ptc", type=Path, default=DEFAULT_PTC)
    parser.add_argument("--split-ratios", type=float, nargs=3, default=[0.8, 0.1, 0.1])
    parser.add_argument("--split-offset", type=float, default=0.0)
    parser.add_argument("--precisions", nargs="+", default=["bf16", "int8"])
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

    from data.hf import build_dataset
    from data.sources import load_specs_by_spec
    from data.splits import split_records
    from model.predictor import Predictor
    from model.resolve import resolve_model_folder
    from training.metrics import compute_metrics

    spec = f"ptc:{args.ptc.resolve()}"
    records = load_specs_by_spec([spec])[spec]
    parts = split_records(records, tuple(args.split_ratios), args.split_offset)
    test = build_dataset(parts["test"])
    gold, mask = np.array(test["labels"]), np.array(test["label_mask"])
    folder = resolve_model_folder(args.model)
    results = {}
    for precision in ("fp32", *args.precisions):
        predictor = Predictor(folder, precision)
        probs = predictor.predict_proba(list(test["text"]))
        decided = predictor.decide(probs)
        results[precision] = probs, decided
        m = compute_metrics(decided, gold, mask, predictor.techniques)
        print(
            f"{precision}: micro-F1 {m['micro_f1']:.4f}  macro-F1 {m['macro_f1']:.4f}  "
            f"any_f1 {m['any_f1']:.4f}  ({len(decided)} held-out PTC sentences)"
        )
    fp_probs, fp = results["fp32"]
    for precision in args.precisions:
        q_probs, q = results[precision]
        per_technique = (fp == q).mean(axis=0)
        print(f"\n{precision} against fp32:")
        print(f"sentences with every decision the same: {(fp == q).all(axis=1).mean():.2%}")
        print(f"mean |probability change|: {np.abs(fp_probs - q_probs).mean():.4f}")
        print("decisions the same, per technique (the five lowest):")
        for k in np.argsort(per_technique)[:5]:
            print(f"  {predictor.techniques[k]:28s} {per_technique[k]:.2%}")


if __name__ == "__main__":
    main()
