"""The effective Hamiltonian H-bar and its methods, in one explicit registry (SPEC section 3).

    H-bar(x, p) = integral of H(x, y, p) mu_x(dy),   H(x, y, p) = max_u ( -phi(x, y, u) . p ),

computed three independent ways that must agree:

``quadrature``
    against the explicit Gibbs density exp(-V(y, x)) / Z(x) (gradient drift only;
    :func:`by_quadrature`, no options);
``cell``
    -delta omega(0) of the truncated delta-cell problem on D_n
    (:func:`hjb.hbar.cell.hbar_cell`; options n, delta, h, solver, richardson);
``markov``
    the average against the discrete invariant measure of the monotone generator
    (:func:`hjb.hbar.markov.hbar_markov`; options box, points, scheme; any
    recurrent drift, gradient or not).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError, did_you_mean
from ..model import TwoScaleModel
from ..operators.quadrature import gibbs_average
from ..points import as_points
from .cell import hbar_cell
from .markov import hbar_markov


def by_quadrature(model: TwoScaleModel, x, p, **options) -> np.ndarray:
    """H-bar(x_i, p_i) by Gauss-Legendre quadrature against the Gibbs density (no options)."""
    if options:
        raise InputError("method", f"quadrature takes no options, got {sorted(options)}")
    # Aligning the rule with p puts its panel break on the kink of the
    # deep-relaxation Hamiltonian, gamma((x - y) . p)^+, in every dimension.
    return gibbs_average(model, x, lambda xc, y, pc: model.hamiltonian(xc, y, pc), p, align=p)


#: method name -> function(model, x (n, d), p (n, d), **options) -> (n,)
METHODS = {"quadrature": by_quadrature, "cell": hbar_cell, "markov": hbar_markov}


def check_method(method: str, key: str = "method") -> None:
    if method not in METHODS:
        raise InputError(key, f"unknown method '{method}'{did_you_mean(str(method), METHODS)}; "
                         f"available: {', '.join(METHODS)}")


def effective_hamiltonian(model: TwoScaleModel, x, p, method: str = "quadrature", **options) -> np.ndarray:
    """H-bar(x_i, p_i) for paired rows of x and p.

    Parameters
    ----------
    model : TwoScaleModel
        The two-scale model (a :class:`hjb.DeepRelaxation` or a general one).
    x, p : array_like
        Points and momenta, each of shape (n, d), or flat of length n in d = 1.
    method : {"quadrature", "cell", "markov"}
        Which of the three routes of SPEC section 3 to take (see the module docstring);
        "markov" also works for a drift that is not a gradient.
    **options
        Passed to the method (e.g. ``delta`` and ``h`` for "cell", ``points`` for "markov").

    Returns
    -------
    ndarray, shape (n,)
        H-bar at each pair.

    Example
    -------
    >>> import hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic"), gamma=2.0)
    >>> hjb.effective_hamiltonian(model, [0.0, 1.0], [1.0, 1.0]).round(6)
    array([0.32574 , 0.575014])
    """
    check_method(method)
    x, p = as_points(x, model.dim), as_points(p, model.dim, "p")
    if x.shape != p.shape:
        raise InputError("p", f"x and p must pair up, got {len(x)} points and {len(p)} momenta")
    return METHODS[method](model, x, p, **options)
