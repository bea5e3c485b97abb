"""The two kinds of failure hjb reports, and the guard that finds non-finite values.

Anything a user can get wrong (a case key, a parameter value, a grid that
cannot work) raises :class:`InputError`, named after the offending argument;
the run layer renames solver arguments into case keys (``eps`` becomes
``solve.eps``) and the CLI prints one line and exits with code 2.  A NaN or Inf
produced by a solve raises :class:`NonFiniteError` (exit code 1) naming the
solver, the step and the grid node.
"""
from __future__ import annotations

import difflib

import numpy as np


class InputError(ValueError):
    """Bad input, reported as ``key: what is wrong`` (a ValueError).

    Raised for anything a user can get wrong: a case key, a parameter value, a
    grid that cannot work, a solve over the limits.  Solvers name their own
    argument (``eps``); the runner renames it into the case key it came from
    (``solve.eps``); ``hjb`` prints ``hjb: key: message`` on one line and exits
    with code 2.

    Parameters
    ----------
    key : str
        The offending argument or dotted case key ("" for none).
    message : str
        What is wrong with it.

    Example
    -------
    >>> import hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic"), gamma=2.0)
    >>> grid = hjb.Grid.box(-1.0, 1.0, 5)
    >>> try:
    ...     hjb.solve_effective(model, grid, T=0.0)
    ... except hjb.InputError as error:
    ...     print(error.key, "|", error.message)
    T | must be positive, got 0
    """

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)

    def __reduce__(self):  # survive pickling (Dask workers) with both fields
        return (InputError, (self.key, self.message))


def did_you_mean(word: str, choices) -> str:
    """A ``(did you mean 'x'?)`` suffix, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def positive_number(value, key: str, what: str = "a positive number") -> float:
    """``value`` as a finite positive float, or an InputError naming ``key``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(key, f"must be {what}, got {value!r}") from None
    if not (np.isfinite(number) and number > 0):
        raise InputError(key, f"must be {what}, got {value!r}")
    return number


class NonFiniteError(RuntimeError):
    """A NaN or Inf appeared in a solve (an internal failure; ``hjb`` exits with code 1).

    The message names the solver, the time step and the first bad grid node,
    e.g. ``eps_hjb: nan at step 12 at x = 0.5, y = -1``; ``hjb`` prints it as
    ``hjb: non-finite value: <message>``.  Every time-stepping solver checks
    each new time level (:func:`hjb.errors.check_finite`).

    Example
    -------
    >>> import numpy as np, hjb
    >>> from hjb.errors import check_finite
    >>> try:
    ...     check_finite(np.array([0.0, np.nan]), "demo", 3, {"x": np.array([0.0, 0.5])})
    ... except hjb.NonFiniteError as error:
    ...     print(error)
    demo: nan at step 3 at x = 0.5
    """


def check_finite(values: np.ndarray, solver: str, step, coordinates: dict) -> None:
    """Raise NonFiniteError naming the solver, the step (None: no step) and the first bad node.

    ``coordinates`` maps axis names to 1-D node arrays, in the axis order of ``values``.
    The message reads ``<solver>: <value> at step N at <coordinates>``.
    """
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    index = np.unravel_index(int(np.argmax(bad.ravel())), values.shape)
    where = ", ".join(f"{name} = {nodes[i]:.6g}" for (name, nodes), i in zip(coordinates.items(), index))
    at_step = "" if step is None else f" at step {step}"
    raise NonFiniteError(f"{solver}: {values.ravel()[np.ravel_multi_index(index, values.shape)]}"
                         f"{at_step} at {where}")
