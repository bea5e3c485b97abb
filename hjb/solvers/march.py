"""The time loop every time-stepping solver shares.

A solver plans its steps with :func:`plan_steps` (the step limit of
:mod:`hjb.limits` is enforced there, before any matrix is assembled or
factorised), builds its named one-step object (``EpsHJBStep``,
``EffectiveStep``, ``ViscousStep``: each maps the value at one time level to the
next and can be tested alone), and hands both to :func:`march`, which applies
the step, checks every new value for NaN/Inf (naming the solver, the step and
the grid node), keeps equispaced snapshots and reports progress.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..errors import InputError, check_finite
from ..limits import check_steps


@dataclass
class Marched:
    """The value after the last step, and the snapshots kept on the way (time, ...)."""

    value: np.ndarray
    times: np.ndarray
    snapshots: Optional[np.ndarray]


def plan_steps(T: float, dt: float, key: str = "steps", at_least: int = 0) -> tuple:
    """(steps, dt): the fewest steps of size <= dt that cover [0, T] (at least ``at_least``),
    and the step that divides T exactly.  A plan over the step limit raises InputError."""
    ratio = T / dt if dt > 0 else np.inf
    if not np.isfinite(ratio):
        raise InputError(key, f"needs infinitely many time steps (T = {T:g}, dt = {dt:g})")
    count = max(float(np.ceil(ratio - 1e-9)), float(at_least), 1.0)
    check_steps(count, key)
    steps = int(count)
    return steps, T / steps


def march(step: Callable[[np.ndarray], np.ndarray], value: np.ndarray, steps: int, dt: float, T: float,
          solver: str, coordinates: dict, snapshots: int = 0,
          on_step: Optional[Callable[[int, int], None]] = None) -> Marched:
    """Apply ``step`` ``steps`` times to ``value`` (time T - n dt after n steps).

    ``snapshots`` equispaced time levels (the first and the last included) are
    kept; ``coordinates`` names the axes of ``value`` for the non-finite report;
    ``on_step(n, steps)`` is called after each step.
    """
    keep = set(np.linspace(0, steps, snapshots, dtype=int)) if snapshots else set()
    times, slices = [], []
    for n in range(steps + 1):
        if n in keep:
            times.append(T - n * dt)
            slices.append(value.copy())
        if n == steps:
            break
        value = step(value)
        check_finite(value, solver, n + 1, coordinates)
        if on_step is not None:
            on_step(n + 1, steps)
    return Marched(value, np.array(times), np.array(slices) if slices else None)
