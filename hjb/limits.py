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


class Estimate(float):
    """Bytes a solve plans to hold at its peak, with what they are for and the argument
    (or case key) that sets the size: ``check_memory(e, e.what, e.key)`` (a kind's
    ``memory(data)`` returns one, so that the run layer words its refusal like the solver)."""

    def __new__(cls, nbytes: float, what: str = "the solve", key: str = "grid"):
        value = super().__new__(cls, nbytes)
        value.what, value.key = what, key
        return value


#: SuperLU (scipy ``splu``) touches about this many bytes per row beyond its factors while it
#: factorises (working arrays a panel wide: ~47 ints and ~21 doubles a row; measured 330-430
#: on tridiagonal and 5-point matrices), and this many per entry of L + U (an 8-byte value and
#: its share of the row indices: measured 13 for thin factors, 10.5 for 185 entries a row).
SUPERLU_ROW, SUPERLU_ENTRY = 330.0, 12.0
#: One entry of a CSR/CSC matrix: an 8-byte value and a 4-byte index (plus 4 bytes a row).
CSR_ENTRY = 12.0


def superlu_bytes(rows: float, fill: float) -> float:
    """The peak of one SuperLU factorisation: its working arrays and its ``fill`` entries of L + U."""
    return SUPERLU_ROW * rows + SUPERLU_ENTRY * fill


#: Measured peaks exceed the arrays an estimate counts by up to ~10% (temporaries freed into
#: the heap but not returned to the system, page rounding): estimates are scaled by this.
SLACK = 1.1


def colamd_fill(rows: float, dim: int) -> float:
    """Entries of L + U of SuperLU with its default (COLAMD) ordering for a generator on a
    lattice of dimension ``dim`` (2 dim + 1 entries a row): 4 a row in d = 1 (tridiagonal);
    in d = 2 measured (6.6 ... 7.8) N^0.24 a row (31 at N = 625, 151 at 2.5e5, 185 at 1e6);
    d = 3 scaled by N^(1/3) (a guess: not measured)."""
    if dim == 1:
        return 4.0 * rows
    return 7.0 * rows ** 1.24 * rows ** ((dim - 2) / 3.0)
