"""Limits on the size of a solve, checked before anything large is allocated.

A solver states what it plans (bytes of memory, number of time steps) and
calls :func:`check_memory` / :func:`check_steps` before it allocates or
factorises; a plan over the limit raises :class:`InputError` naming the
solver argument that sets the size.  The limits in force are a
:class:`Limits` held in a context variable: the defaults below, or what the
caller sets with :func:`limits` (the run layer reads ``HJB_MEMORY_SHARE`` and
``HJB_MAX_STEPS`` there; solvers never read the environment).
"""
from __future__ import annotations

import contextlib
import contextvars
import os
from dataclasses import dataclass, replace

from .errors import InputError


@dataclass(frozen=True)
class Limits:
    """``memory_share``: refuse a plan above this share of the available memory;
    ``max_steps``: refuse a time-stepping solve needing more steps than this."""

    memory_share: float = 0.5
    max_steps: int = 10_000_000


DEFAULT = Limits()
_ACTIVE = contextvars.ContextVar("hjb_limits", default=DEFAULT)


def current() -> Limits:
    return _ACTIVE.get()


@contextlib.contextmanager
def limits(**changes):
    """Run a block under changed limits: ``with limits(max_steps=1000): ...``."""
    token = _ACTIVE.set(replace(_ACTIVE.get(), **changes))
    try:
        yield _ACTIVE.get()
    finally:
        _ACTIVE.reset(token)


def available_bytes() -> int:
    """MemAvailable from /proc/meminfo, else free physical pages."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_memory(estimate: float, what: str, key: str = "grid") -> None:
    """Raise InputError when ``estimate`` bytes exceed the allowed share of the available memory."""
    share = current().memory_share
    available = available_bytes()
    if estimate > share * available:
        raise InputError(key, f"{what} needs about {estimate / 2**30:.3g} GiB, more than "
                         f"{100 * share:.3g}% of the {available / 2**30:.1f} GiB available; use fewer points "
                         "(or raise --max-memory-share / HJB_MEMORY_SHARE)")


def check_steps(steps: float, key: str = "dt") -> None:
    """Raise InputError when a solve plans more time steps than the limit (before any set-up)."""
    limit = current().max_steps
    if steps > limit:
        count = f"{int(steps):,}" if steps < 1e12 else f"{float(steps):.3g}"
        raise InputError(key, f"needs {count} time steps, more than the limit of {limit:,}; "
                         "use a larger dt or courant, or a shorter T (or raise HJB_MAX_STEPS)")
