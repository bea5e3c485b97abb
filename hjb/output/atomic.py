"""Atomic output: write to a temporary file beside the target, then rename it into place.

A reader never sees a half-written file, and an interrupted write (an error,
Ctrl-C) leaves the previous file untouched and no temporary file behind.
"""
from __future__ import annotations

import contextlib
import os
import tempfile

from ..errors import InputError

_UMASK = os.umask(0)
os.umask(_UMASK)


def temporary_beside(path: str) -> str:
    """An empty temporary file beside ``path`` (same file system, so the rename is atomic)."""
    if os.path.isdir(path):
        raise InputError(path, "is a directory; name a file")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(path, f"cannot write there: {exc.strerror or exc}") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)   # mkstemp makes it private; an output file is not
    return tmp


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path to write; on success it replaces ``path``, on failure it is removed."""
    path = os.fspath(path)
    tmp = temporary_beside(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
