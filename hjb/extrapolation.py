"""Richardson extrapolation in the grid step h, with an error estimate.

If a scheme's error at a node behaves like u_h = u + C h^p + o(h^p), two solutions on
nested grids h_c > h_f (ratio r = h_c / h_f) give

    u*  = u_f + (u_f - u_c) / (r^p - 1)            (the extrapolated value, error o(h^p))
    E_f = |u_f - u_c| / (r^p - 1)                  (the estimated error of u_f itself)

With three or more grids the order need not be assumed: the observed order of the
last three, p = log(|u_1 - u_2| / |u_2 - u_3|) / log r (max norms over the nodes),
is used.  How far u* moves when the finest grid is added estimates its error (with an
observed order this needs four grids, with an assumed one three).

Where the solution has a kink the expansion does not hold; u* is then no better than
u_f, and the estimates say so by disagreeing.  This is post-processing: the values
must already be sampled at common nodes (e.g. the coarsest grid's, exact on nested
grids: :func:`hjb.output.rates.sample`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .errors import InputError


@dataclass
class Extrapolation:
    """``value``: u* at the common nodes; ``error_finest``: the estimated |u_f - u| pointwise;
    ``error``: the estimated max error of u* (NaN when there are too few grids to tell);
    ``order``: the p used; ``observed``: whether p was measured (three grids or more)."""

    value: np.ndarray
    error_finest: np.ndarray
    error: float
    order: float
    observed: bool


def _sup(a: np.ndarray) -> float:
    a = np.abs(a[np.isfinite(a)])
    return float(a.max()) if a.size else float("nan")


def _extrapolate(coarse: np.ndarray, fine: np.ndarray, ratio: float, order: float) -> np.ndarray:
    return fine + (fine - coarse) / (ratio ** order - 1.0)


def observed_order(values: Sequence[np.ndarray], steps: Sequence[float]) -> float:
    """The order p of the last three of ``values`` (on steps h_1 > h_2 > h_3), from the max norms
    of their successive differences: |u_1 - u_2| / |u_2 - u_3| = ((h_1^p - h_2^p) / (h_2^p - h_3^p)),
    which for a constant ratio is r^p (solved exactly for that ratio; by bisection otherwise)."""
    (u1, u2, u3), (h1, h2, h3) = values[-3:], steps[-3:]
    far, near = _sup(u1 - u2), _sup(u2 - u3)
    if not (near > 0 and far > 0):
        return float("nan")
    ratio = far / near

    def excess(p):
        return (h1 ** p - h2 ** p) / (h2 ** p - h3 ** p) - ratio

    lo, hi = 1e-3, 20.0
    if excess(lo) * excess(hi) > 0:
        return float("nan")
    for _ in range(100):              # the quotient is increasing in p
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if excess(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)


def richardson(values: Sequence[np.ndarray], steps: Sequence[float], order: Optional[float] = None) -> Extrapolation:
    """Richardson extrapolation of solutions on refined grids, sampled at common nodes.

    Parameters
    ----------
    values : sequence of arrays
        u_h on two or more grids, coarsest first, all at the same nodes.
    steps : sequence of float
        The grid steps h, decreasing.
    order : float, optional
        The order p of the scheme's error.  Default: observed from the last three
        grids (needs three); with two grids it must be given.

    Returns
    -------
    Extrapolation

    Raises
    ------
    InputError
        Fewer than two grids, steps not decreasing, arrays of different shapes, or two
        grids and no order.

    Example
    -------
    A first-order error u_h = 1 + h is removed exactly:

    >>> import numpy as np
    >>> from hjb.extrapolation import richardson
    >>> e = richardson([np.array([1.4]), np.array([1.2]), np.array([1.1])], [0.4, 0.2, 0.1])
    >>> round(e.order, 6), e.value.round(12), e.error_finest.round(12), e.observed
    (1.0, array([1.]), array([0.1]), True)
    """
    values = [np.asarray(v, float) for v in values]
    steps = [float(h) for h in steps]
    if len(values) < 2 or len(values) != len(steps):
        raise InputError("values", f"needs two or more grids with one step each, got {len(values)} and {len(steps)}")
    if any(v.shape != values[0].shape for v in values):
        raise InputError("values", "must be sampled at the same nodes (equal shapes)")
    if not all(h > g > 0 for h, g in zip(steps, steps[1:])):
        raise InputError("steps", "must be positive and decreasing (coarsest grid first)")
    observed = order is None
    if observed:
        if len(values) < 3:
            raise InputError("order", "needs three grids to be observed; give it for two")
        order = observed_order(values, steps)
    if not order > 0:
        return Extrapolation(values[-1].copy(), np.full(values[-1].shape, np.nan), float("nan"), float(order), observed)
    ratio = steps[-2] / steps[-1]
    value = _extrapolate(values[-2], values[-1], ratio, order)
    error_finest = np.abs(values[-1] - values[-2]) / (ratio ** order - 1.0)
    # the error of u*: how much it moved when the finest grid was added (an observed order
    # fitted to the last three grids makes their two extrapolations agree, so it needs four)
    error = float("nan")
    if len(values) >= (4 if observed else 3):
        previous = (richardson(values[:-1], steps[:-1]).value if observed else
                    _extrapolate(values[-3], values[-2], steps[-3] / steps[-2], order))
        error = _sup(value - previous)
    return Extrapolation(value, error_finest, error, float(order), observed)
