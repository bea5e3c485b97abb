"""The run layer's reading of the environment: the limits a run works under.

``HJB_MEMORY_SHARE`` (set by ``hjb run --max-memory-share``, so that Dask
workers inherit it) and ``HJB_MAX_STEPS`` override the defaults of
:class:`hjb.limits.Limits`; :func:`run_limits` applies them around a solve.
Solvers never read the environment themselves.
"""
from __future__ import annotations

import contextlib
import os

from .. import limits
from ..errors import InputError, positive_number

SHARE_VARIABLE = "HJB_MEMORY_SHARE"
STEPS_VARIABLE = "HJB_MAX_STEPS"


def parse_share(text, key: str = SHARE_VARIABLE) -> float:
    """A memory share: a finite number > 0 (above 1 allows swapping)."""
    return positive_number(text, key, "a positive share of the available memory, such as 0.5")


def memory_share() -> float:
    text = os.environ.get(SHARE_VARIABLE)
    return limits.DEFAULT.memory_share if text in (None, "") else parse_share(text)


def max_steps() -> int:
    text = os.environ.get(STEPS_VARIABLE)
    if text in (None, ""):
        return limits.DEFAULT.max_steps
    try:
        value = int(text)
    except ValueError:
        raise InputError(STEPS_VARIABLE, f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise InputError(STEPS_VARIABLE, f"must be at least 1, got {value}")
    return value


@contextlib.contextmanager
def run_limits():
    """The limits of :mod:`hjb.limits` as the environment sets them, for the block."""
    with limits.limits(memory_share=memory_share(), max_steps=max_steps()) as active:
        yield active
