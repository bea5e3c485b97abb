"""The one coercion of points: "a number in d = 1, a list of d numbers otherwise".

Every place that takes a point (a loss centre, xbar and pbar of the cell
problem, x0 of a path, the x and p of H-bar, the bounds of a grid axis) goes
through :func:`components`, :func:`as_point` or :func:`as_points`, so the rule
and its error message are stated once.
"""
from __future__ import annotations

import numpy as np

from .errors import InputError


def _shape_words(dim: int) -> str:
    return "a number" if dim == 1 else f"a list of {dim} numbers"


def components(value, dim: int, key: str) -> list:
    """The d entries of ``value``: a bare entry in d = 1, a list of d entries otherwise (unchecked types)."""
    entries = [value] if dim == 1 and not isinstance(value, (list, tuple, np.ndarray)) else value
    if not isinstance(entries, (list, tuple, np.ndarray)) or len(entries) != dim:
        raise InputError(key, f"expected {_shape_words(dim)} (model.dim = {dim}), got {value!r}")
    return list(entries)


def as_point(value, dim: int, key: str, broadcast: bool = False) -> np.ndarray:
    """A finite point of shape (d,).  ``broadcast``: a single number (not a list of one, which in
    d >= 2 is more likely a component forgotten) stands for all d components."""
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise InputError(key, f"must be {_shape_words(dim)}, got {value!r}") from None
    if broadcast and np.ndim(value) == 0:
        arr = np.full(dim, arr[0])
    if arr.shape != (dim,):
        raise InputError(key, f"needs {dim} components (model.dim = {dim}), got {len(arr)}")
    if not np.all(np.isfinite(arr)):
        raise InputError(key, "must be finite")
    return arr


def as_points(z, dim: int, key: str = "x") -> np.ndarray:
    """Points as an array of shape (n, d); in d = 1 a flat list is accepted."""
    arr = np.asarray(z, dtype=float)
    if dim == 1 and (arr.ndim == 0 or arr.shape[-1] != 1):
        arr = arr[..., None]
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.shape[-1] != dim:
        raise InputError(key, f"points must have {dim} components, got shape {arr.shape}")
    return arr.reshape(-1, dim)
