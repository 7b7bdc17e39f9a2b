"""The technique inventory: one stable id per technique, shared by every module."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

INVENTORY_FILE = Path(__file__).with_name("techniques.json")


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    definition: str
    ptc_label: str | None
    example: str


@cache
def load_techniques() -> tuple[Technique, ...]:
    """All techniques, in the inventory's fixed order (the order of model outputs)."""
    rows = json.loads(INVENTORY_FILE.read_text(encoding="utf-8"))
    return tuple(Technique(**row) for row in rows)


def technique_ids() -> tuple[str, ...]:
    return tuple(t.id for t in load_techniques())


def ptc_label_map() -> dict[str, str]:
    """PTC label -> our technique id, for the 14 techniques PTC annotates."""
    return {t.ptc_label: t.id for t in load_techniques() if t.ptc_label}
