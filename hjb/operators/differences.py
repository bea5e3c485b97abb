"""Derivatives of values on uniform grids (the feedback D_x V, the curvature of a landscape).

findiff's stencils serve here: these are read-outs of computed values, not
parts of a monotone scheme, so second-order central differences inside and
second-order one-sided ones at the walls are what is wanted.
"""
from __future__ import annotations

import numpy as np


def _diff(axis: int, step: float):
    from findiff import Diff   # findiff imports sympy (~2 s): only when a derivative is taken
    return Diff(axis, float(step), acc=2)


def gradient(values: np.ndarray, nodes: np.ndarray, axis: int) -> np.ndarray:
    """d values / d (axis) on the uniform ``nodes`` of that axis, second order everywhere."""
    return _diff(axis, nodes[1] - nodes[0])(values)


def second_derivative(values: np.ndarray, step: float, axis: int = 0) -> np.ndarray:
    """d^2 values / d (axis)^2, second order everywhere (the interior stencil is [1, -2, 1]/h^2)."""
    return (_diff(axis, step) ** 2)(values)
