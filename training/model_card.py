"""The description each registered version carries, readable in the MLflow UI."""

from __future__ import annotations

from model.decision import OFF
from model.meta import ModelMeta

LIMITS = (
    "Scores are per sentence; a technique spread over several sentences is seen piecemeal. "
    "The project's corpus is authored text, cleaner than news in the wild, and PTC covers "
    "14 of the 16 techniques, so `unsupported_claim` and `denial` are learned from the "
    "corpus alone. Rare techniques (fewer than ~100 training sentences) have unstable F1. "
    "Use the output to direct a reader's attention, not as a verdict on an article."
)


def model_card(
    family, meta: ModelMeta, data: str, digests: dict[str, str], metrics: dict, config
) -> str:
    base = f" on `{meta.base_model}`" if meta.base_model else ""
    thresholds = ", ".join(f"{t} {v:.2f}" for t, v in meta.thresholds.items())
    if metrics:
        weak = sorted(meta.techniques, key=lambda t: metrics[f"f1/{t}"])[:3]
        figures = [
            f"**Test metrics**: micro-F1 {metrics['micro_f1']:.3f}, macro-F1 "
            f"{metrics['macro_f1']:.3f}, any-technique F1 {metrics['any_f1']:.3f}.",
            f"**Weakest techniques**: {', '.join(weak)}.",
        ]
    else:
        figures = [
            "**Test metrics**: none; trained without a test split (test share "
            f"{config.split_ratios[2]:g}), so every held-out figure comes from "
            "cross-validating the same recipe."
        ]
    return "\n".join(
        [
            f"# propscan {family}{base}",
            "",
            f"**Data**: `{data}` ({', '.join(config.data)}); dataset digests: "
            + ", ".join(f"{s} `{d}`" for s, d in digests.items())
            + ".",
            *figures,
            f"**Thresholds** (tuned on dev): {thresholds}; a sentence's most likely "
            f"technique is also reported from {meta.any_threshold:.2f}"
            + (" (off)." if meta.any_threshold >= OFF else "."),
            f"**Seed**: {config.seed}"
            + (" (nothing in the baseline is random)." if family == "baseline" else "."),
            "",
            f"**Known limits**: {LIMITS}",
        ]
    )
