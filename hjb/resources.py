"""Memory estimates made before large grids are allocated.

A solver calls :func:`check_memory` with its estimate before it allocates; the
run is refused (an :class:`InputError`, exit code 2) when the estimate exceeds
a share of the memory available now.  The share is :data:`DEFAULT_SHARE`,
overridden by the environment variable ``HJB_MEMORY_SHARE`` (which
``hjb run --max-memory-share`` sets, so that Dask workers inherit it).
"""
from __future__ import annotations

import math
import os

from .errors import InputError

#: Refuse a solve whose estimate exceeds this share of the available memory.
DEFAULT_SHARE = 0.5
#: The environment variable that overrides :data:`DEFAULT_SHARE`.
SHARE_VARIABLE = "HJB_MEMORY_SHARE"


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


def parse_share(text, key: str = SHARE_VARIABLE) -> float:
    """A memory share: a finite number > 0 (above 1 allows swapping)."""
    try:
        share = float(text)
    except (TypeError, ValueError):
        raise InputError(key, f"must be a number such as 0.5, got {text!r}") from None
    if not (math.isfinite(share) and share > 0):
        raise InputError(key, f"must be a positive share of the available memory, got {text!r}")
    return share


def memory_share() -> float:
    """The configured share (environment variable, else the default)."""
    text = os.environ.get(SHARE_VARIABLE)
    return DEFAULT_SHARE if text in (None, "") else parse_share(text)


def check_memory(estimate: float, what: str, key: str = "grid") -> None:
    """Raise InputError when ``estimate`` bytes exceed the allowed share of memory."""
    share = memory_share()
    available = available_bytes()
    if estimate > share * available:
        raise InputError(key, f"{what} needs about {estimate / 2**30:.3g} GiB, more than "
                         f"{100 * share:.3g}% of the {available / 2**30:.1f} GiB available; use fewer points "
                         f"(or raise --max-memory-share / {SHARE_VARIABLE})")


#: Refuse a time-stepping solve that needs more steps than this (override with HJB_MAX_STEPS).
DEFAULT_MAX_STEPS = 10_000_000
STEPS_VARIABLE = "HJB_MAX_STEPS"


def max_steps() -> int:
    text = os.environ.get(STEPS_VARIABLE)
    if text in (None, ""):
        return DEFAULT_MAX_STEPS
    try:
        value = int(text)
    except ValueError:
        raise InputError(STEPS_VARIABLE, f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise InputError(STEPS_VARIABLE, f"must be at least 1, got {value}")
    return value


def step_guard(on_step=None):
    """Wrap a progress callback ``on_step(i, n)`` so that a solve announcing more than
    :func:`max_steps` steps is refused at its first step (an InputError, exit code 2)
    instead of running for days (a tiny dt or Courant number, a huge T)."""
    limit = max_steps()

    def guarded(i, n):
        if n > limit:
            count = f"{n:,}" if n < 1e12 else f"{float(n):.3g}"
            raise InputError("solve", f"needs {count} time steps, more than the limit of {limit:,}; "
                             f"use a larger dt or courant, or a shorter T (or raise {STEPS_VARIABLE})")
        if on_step is not None:
            on_step(i, n)
    return guarded
