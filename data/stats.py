"""Counts of sentences, documents and techniques per split, as a plain-text table."""

from __future__ import annotations

from collections import Counter

from data.splits import DEFAULT_RATIOS, SPLITS, split_records
from data.techniques import technique_ids


def stats_table(records: list[dict], ratios: tuple[float, float, float] = DEFAULT_RATIOS) -> str:
    """A Markdown table: one row per count, one column per split plus the total."""
    parts = split_records(records, ratios)
    columns = [*SPLITS, "total"]
    groups = {**parts, "total": records}
    rows: list[tuple[str, dict[str, int]]] = []
    rows.append(("documents", {c: len({r["doc_id"] for r in groups[c]}) for c in columns}))
    rows.append(("sentences", {c: len(groups[c]) for c in columns}))
    rows.append(("any technique", {c: sum(bool(r["labels"]) for r in groups[c]) for c in columns}))
    rows.append(("no technique", {c: sum(not r["labels"] for r in groups[c]) for c in columns}))
    counts = {c: Counter(t for r in groups[c] for t in r["labels"]) for c in columns}
    for tech in technique_ids():
        rows.append((tech, {c: counts[c][tech] for c in columns}))
    width = max(len(name) for name, _ in rows)
    lines = [
        "| " + "count".ljust(width) + " | " + " | ".join(f"{c:>7}" for c in columns) + " |",
        "|" + "-" * (width + 2) + "|" + "|".join("-" * 9 for _ in columns) + "|",
    ]
    for name, values in rows:
        lines.append(
            "| "
            + name.ljust(width)
            + " | "
            + " | ".join(f"{values[c]:>7,}" for c in columns)
            + " |"
        )
    return "\n".join(lines)
