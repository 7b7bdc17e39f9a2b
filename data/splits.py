"""Deterministic document-level splits.

A document's split depends only on a hash of its `doc_id`, so sentences of one article
never land on both sides and adding documents never moves the ones already there.
An offset rotates the hash positions before the cut: with ratios (0.7, 0.1, 0.2), offsets
0, 0.2, 0.4, 0.6 and 0.8 put every document in test exactly once (5-fold
cross-validation by document).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

SPLITS = ("train", "dev", "test")
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


def doc_position(doc_id: str) -> float:
    """A stable number in [0, 1) for a document id."""
    digest = hashlib.sha256(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(
    doc_id: str, ratios: tuple[float, float, float] = DEFAULT_RATIOS, offset: float = 0.0
) -> str:
    if len(ratios) != 3 or min(ratios) < 0 or abs(sum(ratios) - 1) > 1e-6:
        raise ValueError(f"split ratios must be three non-negative numbers summing to 1: {ratios}")
    position = (doc_position(doc_id) + offset) % 1.0
    if position < ratios[0]:
        return "train"
    if position < ratios[0] + ratios[1]:
        return "dev"
    return "test"


def split_records(
    records: Iterable[dict],
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    offset: float = 0.0,
) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {name: [] for name in SPLITS}
    for record in records:
        out[split_of(record["doc_id"], ratios, offset)].append(record)
    return out
