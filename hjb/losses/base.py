"""What a loss is: f, its gradient, and the facts the solvers need (SPEC section 8).

Arrays follow one convention throughout hjb: points carry their d components in
the last axis, so ``value(y)`` maps shape (..., d) to (...) and ``grad(y)`` maps
(..., d) to (..., d).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import InputError
from ..points import as_point


@dataclass(frozen=True)
class Loss:
    """A loss f: R^d -> R with the facts the solvers need (made by :func:`hjb.make_loss`).

    Calling the loss evaluates f: ``loss(y)`` is ``loss.value(y)``.

    Parameters
    ----------
    name : str
        The loss's name (a shipped name, or the ``"package.module:function"`` reference).
    dim : int
        The dimension d of its argument y.
    value : callable
        f: an array of points of shape (..., d) -> values of shape (...).
    grad : callable
        grad f: shape (..., d) -> (..., d).
    lip : float
        A bound on Lip(grad f) (``inf`` when the gradient is not globally
        Lipschitz); assumption (A) of the convergence theorems is gamma > lip.
    lower : float
        A lower bound of f (it sizes the quadrature window of the Gibbs measure).
    scale : float, default 1.0
        The smallest length on which f varies (it sizes quadrature panels and grids).
    params : dict
        The parameters it was made with (centres as arrays of shape (d,)).

    Example
    -------
    A loss is called on points whose components are in the last axis:

    >>> import numpy as np, hjb
    >>> bowl = hjb.make_loss("quadratic", a=2.0, c=0.5)
    >>> bowl.grad(np.array([[1.5]])), bowl.lip, bowl.lower
    (array([[2.]]), 2.0, 0.0)
    """

    name: str
    dim: int
    value: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    lip: float
    lower: float
    scale: float = 1.0
    params: dict = field(default_factory=dict)

    def __call__(self, y):
        return self.value(y)


def vector(name: str, value, dim: int) -> np.ndarray:
    """A centre given as a scalar (all components) or a list of length d."""
    return as_point(value, dim, f"model.loss.{name}", broadcast=True)


#: Positive loss parameters (widths, curvatures, frequencies) lie in [MIN_POSITIVE, 1/MIN_POSITIVE]:
#: a width of 1e-300 is no landscape any grid resolves, and its 1/width^2 overflows.
MIN_POSITIVE = 1e-6


def positive(name: str, value) -> float:
    value = float(value)
    if not value > 0:
        raise InputError(f"model.loss.{name}", f"must be positive, got {value:g}")
    if not MIN_POSITIVE <= value <= 1.0 / MIN_POSITIVE:
        raise InputError(f"model.loss.{name}", f"must lie in [{MIN_POSITIVE:g}, {1 / MIN_POSITIVE:g}], got {value:g}")
    return value
