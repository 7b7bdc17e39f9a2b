"""Transfer to news nobody tuned on: trained on the corpus alone, scored on all of PTC.

    python benchmarks/transfer.py [--ptc DIR] [--seeds 42 43 44] [--epochs N]
                                  [--set OPTION=VALUE ...]

Cross-validation on PTC tests new articles of the same collection, annotated by the
same people. Users score other news, and the independent evaluation found the model
weakest there, the rare techniques most of all. This is the nearest stand-in the
project's data allows: the transformer learns from the corpus (written for the project,
its 80% training split; its dev split chooses the epoch and thresholds) and is scored on
all of PTC's 14 techniques, real news it has never seen. A corpus training takes about
2 minutes on 2 cores, so several seeds fit where one PTC fold would; compare settings
with `--set`, run by run, on the same seeds.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from quality import (
    DEFAULT_PTC,
    add_set_option,
    family_config,
    metrics_of,
    pooled_span_metrics,
    split_probs,
    use_throwaway_store,
)

FIGURES = ("mean_ap", "any_ap", "micro_f1", "macro_f1", "any_f1", "si_f1", "flc_f1", "tc_micro_f1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptc", type=Path, default=DEFAULT_PTC)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument(
        "--epochs", type=float, help="transformer epochs (default: the encoder's recipe)"
    )
    add_set_option(parser)
    args = parser.parse_args()
    args.ptc = args.ptc.resolve()  # before the chdir below
    use_throwaway_store("propscan-transfer-")

    from dataclasses import replace

    from data.sources import load_spec
    from data.techniques import technique_ids
    from model.predictor import Predictor
    from training.metrics import technique_aps
    from training.run import train
    from training.span_scores import span_outcomes

    ptc = load_spec(f"ptc:{args.ptc}")
    config = family_config("transformer", ["corpus"], args.epochs, args.set)
    figures = []
    for seed in args.seeds:
        result = train(
            replace(config, seed=seed), keep_dir=Path(tempfile.mkdtemp(prefix="transfer-model-"))
        )
        predictor = Predictor(result.folder)
        probs, gold, mask, tokens = split_probs(predictor, ptc)
        m = metrics_of([(predictor.decide(probs), probs, gold, mask)])
        if tokens is not None:  # spans as the product shows them (reported techniques only)
            m |= pooled_span_metrics([span_outcomes(predictor, ptc, probs, tokens, gated=True)])
        figures.append([m.get(k, np.nan) for k in FIGURES])
        print(
            f"seed {seed}: "
            + "  ".join(f"{k} {v:.3f}" for k, v in zip(FIGURES, figures[-1], strict=True))
            + f"  (train {result.train_seconds:.0f} s)",
            flush=True,
        )
        aps = zip(technique_ids(), technique_aps(probs, gold, mask), strict=True)
        # per technique: the rare ones are what transfer loses
        print("  AP: " + "  ".join(f"{t} {ap:.3f}" for t, ap in aps if ap is not None), flush=True)
    mean = np.mean(figures, axis=0)
    print(
        f"\ntrained on the corpus ({' '.join(args.set) or 'defaults'}), scored on all "
        f"{len(ptc)} PTC sentences; mean over seeds {' '.join(map(str, args.seeds))}:"
    )
    print("  ".join(f"{k} {v:.3f}" for k, v in zip(FIGURES, mean, strict=True)))


if __name__ == "__main__":
    main()
