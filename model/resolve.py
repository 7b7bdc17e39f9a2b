"""One resolver for the model a user names, used by every command.

`3`, `champion`, `models:/propscan/3`, `models:/propscan@champion`, `runs:/ID/model`, a
logged-model folder and a plain model folder all name a model; `score`, `evaluate`,
`models compare` and the Python API turn them into a local model folder the same way.
"""

from __future__ import annotations

from pathlib import Path

from model.meta import META_FILE

REGISTERED_MODEL = "propscan"


def model_uri(model: str | Path, registered_model: str = REGISTERED_MODEL) -> str:
    """`3` -> `models:/propscan/3`; `champion` -> `models:/propscan@champion`; an existing
    path or a URI as given."""
    model = str(model)
    if Path(model).exists() or ":" in model or "/" in model:
        return model
    if model.isdigit():
        return f"models:/{registered_model}/{model}"
    return f"models:/{registered_model}@{model}"


def registered_version(uri: str) -> tuple[str, str] | None:
    """(registered model name, version number) behind a `models:/` URI, else None."""
    if not uri.startswith("models:/"):
        return None
    name, _, ref = uri.removeprefix("models:/").partition("/")
    if "@" in name:
        from mlflow.tracking import MlflowClient

        name, alias = name.split("@", 1)
        return name, str(MlflowClient().get_model_version_by_alias(name, alias).version)
    return name, ref


def describe(model: str | Path) -> str:
    """What a user's model name stands for: `models:/propscan@champion = version 3`."""
    uri = model_uri(model)
    registered = registered_version(uri)
    if registered is None:
        return uri
    name, version = registered
    exact = f"models:/{name}/{version}"
    return exact if uri == exact else f"{uri} = version {version}"


def resolve_model_folder(model: str | Path) -> Path:
    """The local propscan model folder behind any model name, downloading it if needed."""
    uri = model_uri(model)
    path = Path(uri)
    if not path.exists():
        import mlflow

        path = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    if (path / META_FILE).is_file():
        return path
    found = sorted(path.rglob(META_FILE))
    if not found:
        raise FileNotFoundError(f"{model}: no propscan model ({META_FILE}) found there")
    return found[0].parent
