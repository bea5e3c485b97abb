"""When a forward solve stops, and with which steps.

Every requested time is hit exactly: each interval between consecutive times is cut
into equal steps of size at most dt (:func:`hjb.solvers.march.plan_steps`), and the
step limit of :mod:`hjb.limits` applies to the total before anything is assembled or
factorised.  Extra frames (for a picture of the whole evolution) are merged in.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..errors import InputError
from ..limits import check_steps
from .march import plan_steps

#: Without dt: steps of size (last time)/DEFAULT_STEPS, and never fewer than
#: MIN_STEPS_PER_INTERVAL between two requested times.
DEFAULT_STEPS = 400
MIN_STEPS_PER_INTERVAL = 10


def check_times(times, key: str = "times") -> np.ndarray:
    """A number or a list of times as a strictly increasing array of finite, non-negative numbers."""
    try:
        times = np.atleast_1d(np.asarray(times, dtype=float))
    except (TypeError, ValueError):
        raise InputError(key, f"must be a number or a list of numbers, got {times!r}") from None
    if times.ndim != 1 or times.size == 0:
        raise InputError(key, f"must be a number or a non-empty list of numbers, got {times!r}")
    if not np.all(np.isfinite(times)) or np.any(times < 0):
        raise InputError(key, f"must be finite and non-negative, got {times.tolist()}")
    if np.any(np.diff(times) <= 0):
        raise InputError(key, f"must increase strictly, got {times.tolist()}")
    return times


def check_step(dt, key: str = "dt") -> Optional[float]:
    if dt is None:
        return None
    dt = float(dt)
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(key, f"must be a positive number, got {dt:g}")
    return dt


def frame_times(times: np.ndarray, frames: int) -> np.ndarray:
    """``frames`` times up to the last one: geometric from the first positive time when the
    times span a decade or more, else equispaced; a frame within 1e-6 of a requested time is it."""
    positive = times[times > 0]
    if frames <= 0 or len(positive) == 0:
        return np.zeros(0)
    first, last = positive[0], positive[-1]
    out = np.geomspace(first, last, frames) if last >= 10 * first else np.linspace(0, last, frames + 1)[1:]
    nearest = times[np.argmin(np.abs(out[:, None] - times[None, :]), axis=1)]
    return np.where(np.abs(out - nearest) <= 1e-6 * nearest, nearest, out)


def plan_intervals(times: np.ndarray, dt: Optional[float]) -> list:
    """(steps, step size) for each interval [previous time, time] (0 steps for a time 0).

    The step limit applies to the total, before anything is factorised."""
    lengths = np.diff(np.concatenate([[0.0], times]))
    at_least = 1 if dt is not None else MIN_STEPS_PER_INTERVAL
    dt = dt if dt is not None else times[-1] / DEFAULT_STEPS
    plans = [plan_steps(float(length), dt, key="dt", at_least=at_least) if length > 0 else (0, 0.0)
             for length in lengths]
    check_steps(sum(steps for steps, _ in plans), "dt")
    return plans
