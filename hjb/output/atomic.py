"""Atomic output: write a temporary file beside the target, check it, then publish it.

A reader never sees a half-written file, and nothing is lost:

* the temporary file is flushed to disk (fsync) and checked by the caller's
  ``verify`` before it is published, so a write that failed anywhere (a full
  disk raises only when HDF5 cleans up, where Python would ignore it) can
  only end loudly, as a :class:`WriteError`, with the previous file untouched;
* SIGINT and SIGTERM are deferred during the write window, not swallowed: a
  signal that arrives there discards the temporary file and is honoured as
  KeyboardInterrupt before anything is published (exit code 130);
* without ``force`` the file is published by a hard link, which fails if the
  target exists, so two concurrent writers cannot overwrite each other: the
  second one gets an InputError; with ``force`` it replaces the target (rename);
* temporaries are named ``.<name>.<pid>.<random>.tmp``; those of processes
  that no longer run (killed by SIGKILL) are removed by the next write.
"""
from __future__ import annotations

import contextlib
import errno
import glob
import os
import secrets
import shutil
import time
from typing import Callable, Optional

from ..errors import InputError
from ..signals import deferred_signals

_UMASK = os.umask(0)
os.umask(_UMASK)
#: Temporaries of the old naming (no pid) older than this many seconds are stale.
STALE_AFTER = 24 * 3600.0


class WriteError(OSError):
    """Writing a result failed (a full disk, an I/O error): nothing was published (exit code 1)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: str) -> list:
    """Remove the temporaries beside ``path`` left by processes that are gone; return them."""
    directory, name = os.path.split(os.path.abspath(path))
    removed = []
    for tmp in glob.glob(os.path.join(glob.escape(directory), glob.escape(f".{name}.") + "*.tmp")):
        middle = os.path.basename(tmp)[len(name) + 2:-4].split(".")
        try:
            stale = not _alive(int(middle[0])) if len(middle) == 2 else \
                time.time() - os.path.getmtime(tmp) > STALE_AFTER
            if stale:
                os.unlink(tmp)
                removed.append(tmp)
        except (ValueError, OSError):
            continue
    return removed


def check_target(path: str, force: bool = False) -> str:
    """Refuse early (before a long solve) a target that exists, is a folder or cannot be written.

    Creates nothing: the folder of the target is made only when the result is written."""
    path = os.fspath(path)
    if not path or not os.path.basename(path):
        raise InputError(path or "output.file", "names no file")
    if os.path.isdir(path):
        raise InputError(path, "is a directory; name a file")
    if os.path.exists(path) and not force:
        raise InputError(path, "exists already; pass --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if os.path.exists(folder) or parent == folder:
            raise InputError(path, f"cannot write there: '{folder}' is not a folder")
        folder = parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(path, f"cannot write there: no permission in '{folder}'")
    return path


def temporary_beside(path: str) -> str:
    """A new empty temporary file beside ``path`` (same file system, so publishing is atomic)."""
    check_target(path, force=True)
    directory, name = os.path.split(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        remove_stale_temporaries(path)
        tmp = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~_UMASK))
    except OSError as exc:
        raise InputError(path, f"cannot write there: {exc.strerror or exc}") from None
    return tmp


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    try:                                    # the directory entry too, so the rename survives a crash
        dfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _publish(tmp: str, path: str, force: bool) -> None:
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)                  # fails if path exists: no check-then-rename race
    except FileExistsError:
        raise InputError(path, "exists already (written meanwhile by another run?); "
                         "pass --force to overwrite it") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # a file system without hard links: exclusive creation of the name, then rename over it
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~_UMASK))
        except FileExistsError:
            raise InputError(path, "exists already; pass --force to overwrite it") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def check_free_space(path: str, needed: float) -> None:
    """Refuse a write that cannot fit on the file system (before it starts)."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise WriteError(errno.ENOSPC, f"needs about {needed / 2**20:.3g} MiB, only {free / 2**20:.3g} MiB free "
                         f"on the file system of '{folder}'", path)


@contextlib.contextmanager
def atomic_path(path, force: bool = True, verify: Optional[Callable[[str], None]] = None, needed: float = 0.0):
    """Yield a temporary path to write (and close); then fsync it, ``verify(tmp)`` it and
    publish it as ``path``.  On any failure, or a signal during the write, the temporary
    file is removed and the previous ``path`` is left as it was."""
    path = os.fspath(path)
    check_target(path, force)
    if needed:
        check_free_space(path, needed)
    tmp = temporary_beside(path)
    with deferred_signals() as received:
        try:
            try:
                yield tmp
                _fsync(tmp)
                if verify is not None:
                    verify(tmp)
            except (InputError, KeyboardInterrupt):
                raise
            except OSError as exc:
                raise WriteError(exc.errno or errno.EIO, exc.strerror or str(exc), path) from None
            if received:
                raise KeyboardInterrupt
            _publish(tmp, path, force)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
