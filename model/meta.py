"""The model folder's metadata, `propscan.json`, which every family shares.

It says which family the folder holds, the technique order of its outputs and the
decision rule tuned on dev (per-technique thresholds and the top-technique threshold,
applied by `model.decision`); the family's own files sit beside it. Nothing in the
folder is a pickle.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from model.decision import OFF

META_FILE = "propscan.json"


@dataclass
class ModelMeta:
    family: str  # "baseline" or "transformer"
    techniques: list[str]
    thresholds: dict[str, float]
    any_threshold: float = OFF  # see decision.decide(); OFF in folders made before it existed
    # Per technique, the token probability from which a run of tokens is a span; None in
    # folders without a span head (older ones, the baseline).
    span_thresholds: dict[str, float] | None = None
    base_model: str | None = None
    max_length: int = 128
    extra: dict = field(default_factory=dict)

    def threshold_list(self) -> list[float]:
        return [self.thresholds[t] for t in self.techniques]

    def span_threshold_list(self) -> list[float]:
        return [self.span_thresholds[t] for t in self.techniques]


def save_untuned_meta(folder: Path, family: str, techniques: list[str], **fields) -> None:
    """The metadata of a freshly fitted model: thresholds at 0.5 until training tunes the
    decision rule on dev."""
    thresholds = {t: 0.5 for t in techniques}
    save_meta(folder, ModelMeta(family, list(techniques), thresholds, **fields))


def save_meta(folder: Path, meta: ModelMeta) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / META_FILE).write_text(json.dumps(asdict(meta), indent=2), encoding="utf-8")


def load_meta(folder: Path) -> ModelMeta:
    path = Path(folder) / META_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: not a propscan model folder (no {META_FILE})")
    text = path.read_text(encoding="utf-8")
    meta = ModelMeta(**json.loads(text))
    problem = span_section_problem(meta)
    if problem:
        line = next(
            (i for i, row in enumerate(text.splitlines(), 1) if "span_thresholds" in row), 1
        )
        raise ValueError(f"{path}:{line}: span_thresholds {problem}")
    return meta


def span_section_problem(meta: ModelMeta) -> str | None:
    """What is wrong with the span thresholds, if anything: each technique needs one, a
    number from 0 to 1."""
    spans = meta.span_thresholds
    if spans is None:
        return None
    if not isinstance(spans, dict):
        return "must be an object of technique: threshold"
    missing = [t for t in meta.techniques if t not in spans]
    if missing:
        return f"lacks {', '.join(missing)}"
    for technique, value in spans.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            return f"of {technique} must be a number from 0 to 1, not {value!r}"
    return None
