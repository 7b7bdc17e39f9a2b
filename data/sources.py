"""Resolve `--data` specs (`corpus`, `ptc:DIR`, `FILE.jsonl`) to sentence records."""

from __future__ import annotations

from pathlib import Path

from data.ptc import import_ptc
from data.records import read_records

CORPUS_FILE = Path(__file__).with_name("corpus") / "corpus.jsonl"


def load_spec(spec: str) -> list[dict]:
    """Records for one data spec.

    `corpus` is the project's own labeled corpus; `ptc:PATH` is a PTC folder (imported on
    the fly) or a JSONL written by `propscan data import-ptc`; a folder holding
    `corpus.jsonl` reads that file; anything else is a JSONL file.
    """
    if spec == "corpus":
        return list(read_records(CORPUS_FILE))
    path = Path(spec.removeprefix("ptc:"))
    if path.is_dir() and (spec.startswith("ptc:") or (path / "articles").is_dir()):
        return import_ptc(path)
    if path.is_dir() and (path / CORPUS_FILE.name).is_file():
        path = path / CORPUS_FILE.name
    if not path.is_file():
        raise FileNotFoundError(f"{spec}: no such data file (use corpus, ptc:DIR or a .jsonl)")
    return list(read_records(path))


def spec_path(spec: str) -> Path:
    """The file or folder a spec reads, as an absolute path (an MLflow dataset source)."""
    return (CORPUS_FILE if spec == "corpus" else Path(spec.removeprefix("ptc:"))).resolve()


def load_specs_by_spec(specs: list[str]) -> dict[str, list[dict]]:
    """Records per spec; a document id may come from one spec only."""
    out: dict[str, list[dict]] = {}
    owner: dict[str, str] = {}
    for spec in specs:
        out[spec] = load_spec(spec)
        for record in out[spec]:
            first = owner.setdefault(record["doc_id"], spec)
            if first != spec:
                raise ValueError(f"document {record['doc_id']} is in both {first} and {spec}")
    return out


def load_specs(specs: list[str]) -> list[dict]:
    """Records of several specs together."""
    return [r for records in load_specs_by_spec(specs).values() for r in records]
