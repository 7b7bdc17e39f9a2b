"""Package exports imported on first use, so `import training` (the CLI's start) does not
pull in torch, MLflow or pandas for names it never touches (PEP 562)."""

from __future__ import annotations

from importlib import import_module


def lazy_exports(package: str, exports: dict[str, str]):
    """A module `__getattr__` that imports `exports[name]` (a module path) when `name` of
    `package` is first asked for. An exported name must not be a submodule's: importing
    the submodule would bind the package's attribute to it."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(exports[name]), name)

    return __getattr__
