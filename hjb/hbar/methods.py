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
from ..limits import SLACK
from ..model import TwoScaleModel
from ..operators.quadrature import chunk_size, gibbs_average
from ..points import as_points
from ..solvers.invariant import default_size, memory_estimate as invariant_memory
from .cell import hbar_cell, memory_estimate as cell_memory
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
    """The effective Hamiltonian H-bar(x_i, p_i) at paired rows of x and p (SPEC section 3).

    H-bar is the average of the Hamiltonian against the invariant measure mu_x
    of the fast process dY = b(x, Y) dt + sqrt(2) dW (x frozen):

        H-bar(x, p) = integral of H(x, y, p) mu_x(dy),   H(x, y, p) = max_{u in U} ( -phi(x, y, u) . p ).

    Three independent methods compute it; on the shipped models they agree to
    about 1e-6 (tests/test_hbar_three_ways.py).

    Parameters
    ----------
    model : TwoScaleModel
        The two-scale model: a :class:`hjb.DeepRelaxation`, or a general
        :class:`hjb.TwoScaleModel`.
    x, p : array_like
        Points and momenta, each of shape (n, d), paired row by row; in d = 1
        flat lists (or scalars) are accepted.
    method : {"quadrature", "cell", "markov"}, default "quadrature"
        The method, with the options it takes in ``**options``:

        ``"quadrature"`` -- no options
            Composite Gauss-Legendre quadrature against the Gibbs density
            mu_x = exp(-V(y, x)) / Z(x), aligned with p so that the kink of H
            costs no accuracy.  Needs a gradient drift b = -grad_y V: the
            model's ``potential`` (and, for a general model, its ``gibbs_box``).
        ``"cell"`` -- options ``n``, ``delta``, ``h``, ``solver``, ``richardson``
            -delta omega(0) of the truncated delta-cell problem on the ball D_n
            (:func:`hjb.solve_truncated_cell`).  ``n``: the radius (default: a
            ball holding mu_x up to e^-40 of its peak); ``delta``: default 1e-8;
            ``h``: the grid step (default: about 8000 unknowns in d = 1, 100000
            in d = 2); ``solver``: "direct" (SuperLU, default) or "iterative"
            (geometric multigrid); ``richardson``: default True, combine the
            solves at h and 2h as (4 v_h - v_2h)/3 to cancel the O(h^2) error.
        ``"markov"`` -- options ``box``, ``points``, ``scheme``
            sum_j pi_j H(x, y_j, p), pi the invariant vector of the monotone
            generator of the fast process on a y-box with reflecting walls
            (:func:`hjb.solvers.invariant.invariant_measure`).  Any recurrent
            drift, gradient or not.  ``box``: (lower, upper) (default: the
            model's ``gibbs_box``, else its Gibbs window around x); ``points``:
            nodes per axis (default 4001 in d = 1; in d >= 2, 20 per model
            length scale up to 301 per axis in d = 2); ``scheme``: "fitted"
            (Scharfetter-Gummel rates, second order, default) or "upwind"
            (first order).
    **options
        Passed to the method.  An option the method does not take is refused
        (TypeError; InputError for "quadrature").

    Returns
    -------
    ndarray, shape (n,)
        H-bar(x_i, p_i) for each pair.

    Raises
    ------
    InputError
        An unknown method, x and p that do not pair up, points with the wrong
        number of components, or a model the method cannot handle (quadrature
        without a potential, markov without a box).

    Example
    -------
    For the quadratic loss H-bar has a closed form (SPEC section 9); the three
    methods agree with it:

    >>> import hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic"), gamma=2.0)
    >>> hjb.effective_hamiltonian(model, [0.0, 1.0], [1.0, 1.0]).round(6)
    array([0.460659, 0.868705])
    >>> hjb.effective_hamiltonian(model, [0.0, 1.0], [1.0, 1.0], method="cell").round(6)
    array([0.460659, 0.868705])
    >>> hjb.effective_hamiltonian(model, [0.0, 1.0], [1.0, 1.0], method="markov").round(5)
    array([0.46066, 0.8687 ])
    """
    check_method(method)
    x, p = as_points(x, model.dim), as_points(p, model.dim, "p")
    if x.shape != p.shape:
        raise InputError("p", f"x and p must pair up, got {len(x)} points and {len(p)} momenta")
    return METHODS[method](model, x, p, **options)


def memory_estimate(model: TwoScaleModel, x, p, method: str = "quadrature") -> float:
    """Bytes at the peak of :func:`effective_hamiltonian` with the method's default options
    (calibrated by scripts/bench_memory.py): quadrature holds a chunk of P point-nodes (nodes,
    their offsets, weights, the Hamiltonian and the last chunk's); cell and markov solve one
    point at a time, so the largest of their solves."""
    x = as_points(x, model.dim)
    if method == "cell":
        return cell_memory(model, x)
    if method == "markov":
        return max(invariant_memory(default_size(model, xi), model.dim) for xi in np.unique(x, axis=0))
    P, _ = chunk_size(model, x[:: max(len(x) // 64, 1)], len(x), aligned=True)
    return SLACK * 8.0 * (P * (4 * model.dim + 5) + 2 * x.size)
