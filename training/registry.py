"""The model registry: logging a model as a new version of `propscan`, listing versions,
and moving the `champion` alias (the old champion becomes `previous`).

The design's third alias, `challenger`, is not used: nothing reads it, and a version
waiting for promotion is simply a version number.
"""

from __future__ import annotations

import getpass
import warnings
from datetime import UTC, datetime
from pathlib import Path

import mlflow
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import Array, Object, Property

import model as model_package
from model.meta import load_meta
from model.predictor import MODEL_DIR_ARTIFACT
from training.metrics import HEADLINE
from training.model_card import model_card

CHAMPION, PREVIOUS = "champion", "previous"
PYFUNC_FILE = Path(model_package.__file__).with_name("pyfunc_model.py")


def signature(techniques: list[str]) -> ModelSignature:
    """Text in; per document its techniques and sentences out, as real lists and objects
    (the shape of `propscan score`'s JSONL), so REST clients get JSON, not JSON in strings."""
    span = Object(
        [
            Property("technique", "string"),
            Property("start", "long"),
            Property("end", "long"),
            Property("text", "string"),
            Property("probability", "double"),
        ]
    )
    sentence = Object(
        [
            Property("sent_idx", "long"),
            Property("start", "long"),
            Property("end", "long"),
            Property("text", "string"),
            Property("techniques", Array("string")),
            Property("probabilities", Object([Property(t, "double") for t in techniques])),
            Property("spans", Array(span)),
        ]
    )
    return ModelSignature(
        inputs=Schema([ColSpec("string", "text")]),
        outputs=Schema(
            [
                ColSpec("long", "n_sentences"),
                ColSpec(Array("string"), "techniques"),
                ColSpec(Array(sentence), "sentences"),
            ]
        ),
    )


def requirements() -> list[str]:
    """propscan's own runtime requirements, for a serving environment (besides propscan).

    Given explicitly, MLflow does not infer them by loading the model once more in a
    subprocess at every registration."""
    from importlib.metadata import requires

    return [r for r in requires("propscan") or [] if "extra ==" not in r]


def log_model(folder: Path, registered_model: str):
    """Log the model folder as a models-from-code pyfunc and register a new version.

    No input example: MLflow would load and run the model again just to validate it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_FILE),
            artifacts={MODEL_DIR_ARTIFACT: str(folder)},
            signature=signature(load_meta(folder).techniques),
            pip_requirements=requirements(),
            registered_model_name=registered_model,
        )


def ensure_champion(client: MlflowClient, name: str, version: str) -> bool:
    """Give `champion` to the first version ever registered; True if it was given.

    The registry numbers versions atomically, so of two first runs finishing at once only
    the one holding version 1 takes the alias ("no champion yet?" would let both take it).
    """
    if str(version) != "1":
        return False
    client.set_registered_model_alias(name, CHAMPION, version)
    return True


def register(client: MlflowClient, config, family: str, data: str, folder: Path, digests, metrics):
    """Log the model, register a version with its card and tags; champion if first.
    Returns (version, whether it became champion)."""
    name = config.registered_model
    version = str(log_model(folder, name).registered_model_version)
    card = model_card(family, load_meta(folder), data, digests, metrics, config)
    client.update_model_version(name, version, card)
    tags = {
        "family": family,
        "data": data,
        "run_id": mlflow.active_run().info.run_id,
        "test_digests": ",".join(d for k, d in digests.items() if k.endswith("-test")),
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    return version, ensure_champion(client, name, version)


def version_label(client: MlflowClient, model: str) -> str:
    """`v3 transformer (champion)` for a registered version, whatever name the user gave
    it (`3`, `champion`, a URI); anything else (a folder) as given."""
    from model.resolve import model_uri, registered_version

    registered = registered_version(model_uri(model))
    if registered is None:
        return str(model)
    name, version = registered
    family = client.get_model_version(name, version).tags.get("family", "")
    aliases = [a for a, v in client.get_registered_model(name).aliases.items() if str(v) == version]
    return f"v{version} {family}".strip() + (f" ({', '.join(sorted(aliases))})" if aliases else "")


def version_rows(client: MlflowClient, name: str = "propscan") -> list[dict]:
    """Every version, newest first, with aliases, family, data, time and test metrics."""
    aliases: dict[str, list[str]] = {}
    for alias, version in client.get_registered_model(name).aliases.items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for mv in client.search_model_versions(f"name = '{name}'"):
        metrics = client.get_run(mv.run_id).data.metrics if mv.run_id else {}
        rows.append(
            {
                "version": str(mv.version),
                "aliases": ",".join(sorted(aliases.get(str(mv.version), []))),
                "family": mv.tags.get("family", ""),
                "data": mv.tags.get("data", ""),
                "created": datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                **{m: metrics.get(m) for m in HEADLINE},
            }
        )
    return sorted(rows, key=lambda r: int(r["version"]), reverse=True)


def versions_table(rows: list[dict]) -> str:
    head = f"{'version':>7s}  {'aliases':18s} {'family':11s} {'data':18s} {'created (UTC)':16s}"
    head += "".join(f" {m:>9s}" for m in HEADLINE)
    lines = [head]
    for r in rows:
        line = (
            f"{r['version']:>7s}  {r['aliases']:18s} {r['family']:11s} {r['data']:18s} "
            f"{r['created']:16s}"
        )
        line += "".join(f" {r[m]:9.3f}" if r[m] is not None else f" {'-':>9s}" for m in HEADLINE)
        lines.append(line)
    return "\n".join(lines)


def move_champion(
    client: MlflowClient, name: str, version: str, reason: str, evidence: str, expected: str | None
) -> str | None:
    """Make `version` the champion, the old one `previous`; record who, when and why.

    `expected` is the champion the evidence was measured against: evaluating takes minutes,
    and a champion promoted meanwhile must not be replaced unseen. (MLflow has no
    compare-and-set for aliases; this narrows the window to one request.)
    """
    aliases = client.get_registered_model(name).aliases
    old = str(aliases[CHAMPION]) if CHAMPION in aliases else None
    if old != expected:
        raise ValueError(
            f"the champion changed from {expected} to {old} while version {version} was "
            "being evaluated; run promote again"
        )
    if old and old != version:
        client.set_registered_model_alias(name, PREVIOUS, old)
    client.set_registered_model_alias(name, CHAMPION, version)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for key, value in {
        "promoted_by": getpass.getuser(),
        "promoted_at": stamp,
        "promotion_reason": reason or "(none given)",
        "promotion_evidence": evidence,
        "replaced_champion": old or "(none)",
    }.items():
        client.set_model_version_tag(name, version, key, value)
    return old


def promote(
    client: MlflowClient, name: str, version: str, data, force: bool, reason: str
) -> tuple[bool, str]:
    """Promote unless the version is worse than the champion on the shared set `data`."""
    from training.evaluate import evaluate

    aliases = client.get_registered_model(name).aliases
    champion = str(aliases[CHAMPION]) if CHAMPION in aliases else None
    if champion == version:
        return False, f"version {version} is already the champion"
    evidence = "no champion to compare with"
    if champion:
        new = evaluate(f"models:/{name}/{version}", data)
        old = evaluate(f"models:/{name}/{champion}", data)
        new_f1, old_f1 = new.metrics["micro_f1"], old.metrics["micro_f1"]
        evidence = (
            f"micro-F1 on {data.name}: version {version} {new_f1:.3f}, "
            f"champion {champion} {old_f1:.3f}"
        )
        caveats = [c for c in (new.caveat, old.caveat) if c]
        if caveats and not force:
            return False, f"refused: {'; '.join(caveats)}; not a fair comparison (use --force)"
        if new_f1 < old_f1 and not force:
            return False, f"refused: {evidence}; version {version} is worse (use --force)"
    old_champion = move_champion(client, name, version, reason, evidence, expected=champion)
    moved = f" ({old_champion} is now '{PREVIOUS}')" if old_champion else ""
    return True, f"version {version} is now '{CHAMPION}'{moved}; {evidence}"
