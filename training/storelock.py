"""One process at a time opens a local sqlite store.

Opening a new sqlite store creates and migrates its tables; two `propscan` commands doing it
at the same moment collide ("table metrics already exists"). Commands open the store under
an exclusive lock, released once it is ready; after that sqlite serialises writes itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI, None for any other store."""
    prefix = "sqlite:///"
    return Path(uri[len(prefix) :]).resolve() if uri.startswith(prefix) else None


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold an exclusive lock on a sqlite store while inside; no-op for other stores.

    The lock file lives in the temporary folder, named after the database's path, so the
    project folder gains no stray file."""
    path = sqlite_path(uri)
    if path is None:
        yield
        return
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"propscan-store-{digest}.lock"
    fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
