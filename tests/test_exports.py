"""The names a library user imports from each package, and a CLI that starts light."""

import importlib
import subprocess
import sys
import types

import pytest


@pytest.mark.parametrize("package", ["data", "model", "training"])
def test_every_exported_name_is_the_thing_not_a_module(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        for submodule in set(module.EXPORTS.values()):
            importlib.import_module(submodule)  # a submodule import must not shadow a name
        assert not isinstance(getattr(module, name), types.ModuleType), name


def test_the_command_line_parser_loads_no_heavy_library():
    script = (
        "import sys; from training.cli import build_parser; build_parser(); "
        "heavy = ('torch', 'mlflow', 'pandas', 'sklearn', 'pyspark'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
