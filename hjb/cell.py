"""The truncated delta-cell problem on the ball D_n = {|y| < n} (SPEC section 3, route 2).

    delta omega - ( b(xbar, y) . D omega + Laplacian omega ) = -h(y)   in D_n,
    omega = 0                                                          on the sphere |y| = n,

with h(y) = H(xbar, y, pbar).  omega(y) = -E int_0^tau h(Y_t) e^{-delta t} dt
(tau the exit time from D_n), and delta omega -> -H-bar(xbar, pbar) as
n -> infinity with delta = delta(n) -> 0 suitably (Bardi-Kouhkouh).

Discretisation (any dimension; d = 1 is the interval (-n, n), d = 2 the disc)
------------------------------------------------------------------------------
The unknowns are the nodes j h (j in Z^d) strictly inside the ball.  Along
each axis a node has two arms: to its grid neighbour (length h) or, when that
neighbour lies outside the ball, to the point where the axis line cuts the
sphere (length t in (0, h]; Shortley-Weller).  With hbar_i = (t_+ + t_-)/2
the rate along an arm of length t, with drift component beta = t b_mid
pointing along the arm (b evaluated at the arm's midpoint), is

    rate = B(-beta) / (t hbar_i),      B(z) = z / (e^z - 1)  (Scharfetter-Gummel fitting),

positive for every h and every drift, so the matrix delta I - L is a strictly
diagonally dominant M-matrix (inverse >= 0: discrete comparison principle).
It reduces to the Shortley-Weller Laplacian when b = 0, is exact on the
kernel {1, e^{-b y}} of the frozen-coefficient operator, and its local error
is O(h) at cut nodes and O(h^2) elsewhere, which gives a second-order global
error including the boundary (tested on a manufactured solution).

Conditioning and accuracy
-------------------------
The matrix has diagonal ~ 2d/h^2 + delta and row sums delta, so forming the
diagonal already loses delta relative to 2d/h^2: a plain solve determines
delta omega only to ~ eps / (delta h^2).  The cure is the one for M-matrices
given by their off-diagonals and row sums (as in GTH elimination): the
residual is evaluated in edge-difference form,

    r_i = -h_i - delta omega_i + sum_arms rate (omega_nbr - omega_i),

which has no cancellation against the diagonal.  Both solvers correct their
solution by iterative refinement with this residual: the direct one with its
LU factors, the iterative one with a geometric-multigrid V-cycle (so its
refinement is the multigrid iteration; the V-cycle uses assembled matrices,
where rounding of the diagonal does not matter).  Either way delta omega is
accurate to rounding level (tests/test_cell.py shows the plain solve is not).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from math import gamma, pi

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .errors import InputError, did_you_mean
from .generator import bernoulli
from .model import TwoScaleModel, as_points
from .multigrid import ball_hierarchy
from .resources import check_memory

#: Nodes closer to the sphere than this fraction of h are taken as boundary
#: nodes (value 0): their arm would be shorter than 1e-6 h and only spoil the
#: conditioning, while the value they would carry is O(1e-6 h |D omega|).
MIN_ARM = 1e-6
#: Refinement stops when the correction of delta omega is below REFINE_TOL (relative to
#: max |h|), or when corrections below ROUNDING_TOL set no new minimum in STALL steps.
REFINE_TOL = 1e-14
ROUNDING_TOL = 1e-10
STALL = 3
#: At most this many corrections: direct solver (each gains ~ -log10(eps cond) digits)
#: and multigrid cycles (each gains about one digit).
MAX_REFINE = 12
MAX_CYCLES = 60
SOLVERS = ("direct", "iterative")


@dataclass(frozen=True)
class BallOperator:
    """-L = -(b . D + Laplacian) on the ball with homogeneous Dirichlet data, in edge form.

    ``nodes`` (m, d) are the unknowns; ``head``/``tail``/``rate`` the jumps
    between unknowns (L omega_i gets rate (omega_tail - omega_i) at row
    head); ``exit_rate`` (m,) the summed rates of the arms that end on the
    sphere (where omega = 0).  ``index`` maps the square grid of axis nodes
    ``axis`` (shape (2J+1,)*d) to unknowns (-1 outside, -2 on the sphere).
    ``peclet`` is the largest cell Peclet number |b_k| t / 2 over the arms.
    """

    nodes: np.ndarray
    head: np.ndarray
    tail: np.ndarray
    rate: np.ndarray
    exit_rate: np.ndarray
    index: np.ndarray
    axis: np.ndarray
    step: float
    radius: float
    peclet: float

    @property
    def size(self) -> int:
        return len(self.nodes)

    def matrix(self, delta: float) -> sp.csr_matrix:
        """delta I - L as a CSR M-matrix."""
        m = self.size
        off = sp.csr_matrix((-self.rate, (self.head, self.tail)), shape=(m, m))
        diag = delta + self.exit_rate + np.bincount(self.head, weights=self.rate, minlength=m)
        return (off + sp.diags(diag)).tocsr()

    @cached_property
    def _edge_form(self):
        """Sparse factors of L omega = G (D omega): D takes the difference along each jump
        (omega_tail - omega_head), G sums rate times difference into the jump's head."""
        m, e = self.size, len(self.head)
        # built directly in compressed form: row j of D holds +1 at tail_j and -1 at
        # head_j; column j of G holds rate_j at head_j (no COO sort of 10^7 entries)
        D = sp.csr_matrix((np.tile([1.0, -1.0], e), np.stack([self.tail, self.head], axis=1).ravel(),
                           np.arange(0, 2 * e + 1, 2)), shape=(e, m))
        G = sp.csc_matrix((self.rate, self.head, np.arange(e + 1)), shape=(m, e))
        return D, G

    def apply(self, omega: np.ndarray, delta: float) -> np.ndarray:
        """(delta I - L) omega in edge-difference form (no cancellation against the diagonal)."""
        D, G = self._edge_form
        return (delta + self.exit_rate) * omega - G @ (D @ omega)


def _drift_along(drift, points: np.ndarray, k: int, offset: np.ndarray) -> np.ndarray:
    """Component k of the drift at points + offset e_k."""
    mid = points.copy()
    mid[:, k] += offset
    return drift(mid)[:, k]


def ball_operator(drift, dim: int, n: float, h: float) -> BallOperator:
    """Assemble the fitted Shortley-Weller operator on D_n (vectorised, loop over axes only).

    ``drift(y)`` maps (..., d) points to (..., d) velocities.
    """
    J = int(np.floor(n / h + 1e-9))
    axis = h * np.arange(-J, J + 1)
    shape = (2 * J + 1,) * dim
    # |y|^2 on the square grid by broadcasting (no (..., d) coordinate array).
    r2 = sum((axis**2).reshape((-1,) + (1,) * (dim - 1 - k)) for k in range(dim))
    r2 = np.broadcast_to(r2, shape).ravel()
    inside = r2 < (n - MIN_ARM * h) ** 2
    flat = np.flatnonzero(inside)
    m = len(flat)
    check_memory(8.0 * m * (6 * dim + 8), "the cell-problem assembly", key="solve.h")
    index = np.full(len(r2), -1, dtype=np.int64)
    index[(~inside) & (r2 <= n**2 * (1 + 1e-12))] = -2
    index[flat] = np.arange(m)
    pos = np.stack(np.unravel_index(flat, shape), axis=-1)
    nodes = axis[pos]
    ids = np.arange(m)
    head, tail, rate = [], [], []
    exit_rate = np.zeros(m)
    peclet = 0.0
    rest = r2[flat]
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]
    for k in range(dim):
        # Arm lengths to the sphere along +e_k and -e_k (t solves |y + t e_k| = n).
        chord = np.sqrt(np.maximum(n**2 - (rest - nodes[:, k] ** 2), 0.0))
        arms, nbrs = [], []
        for sign in (1, -1):
            valid = (pos[:, k] + sign >= 0) & (pos[:, k] + sign <= 2 * J)
            nbr = np.where(valid, index[np.where(valid, flat + sign * strides[k], 0)], -1)
            arms.append(np.where(nbr >= 0, h, np.minimum(chord - sign * nodes[:, k], h)))
            nbrs.append(nbr)
        hbar = 0.5 * (arms[0] + arms[1])
        # Drift along e_k at the arm midpoints.  An interior -e_k arm is the +e_k arm of its
        # neighbour, so the drift is evaluated once per edge (and once per cut -e_k arm).
        along = [_drift_along(drift, nodes, k, 0.5 * arms[0]), np.empty(m)]
        shared = nbrs[1] >= 0
        along[1][shared] = along[0][nbrs[1][shared]]
        along[1][~shared] = _drift_along(drift, nodes[~shared], k, -0.5 * arms[1][~shared])
        for sign, t, nbr, b_k in zip((1, -1), arms, nbrs, along):
            beta = sign * t * b_k
            peclet = max(peclet, 0.5 * float(np.max(np.abs(beta), initial=0.0)))
            rt = bernoulli(-beta) / (t * hbar)
            interior = nbr >= 0
            head.append(ids[interior])
            tail.append(nbr[interior])
            rate.append(rt[interior])
            exit_rate += np.where(interior, 0.0, rt)
    index = index.reshape(shape)
    return BallOperator(nodes, np.concatenate(head), np.concatenate(tail), np.concatenate(rate),
                        exit_rate, index, axis, float(h), float(n), peclet)


@dataclass
class CellSolution:
    """omega on the unknowns and on the square grid (NaN outside D_n, 0 on grid nodes on the sphere)."""

    values: np.ndarray
    omega: np.ndarray
    axis: np.ndarray
    dim: int
    n: float
    delta: float
    h: float
    delta_omega_at_center: float
    solver: str
    unknowns: int
    nonzeros: int
    assembly_time: float
    solve_time: float
    refinements: int
    residual: float
    stats: dict = field(default_factory=dict)

    @property
    def coordinate_names(self) -> list:
        return ["y"] if self.dim == 1 else [f"y{k + 1}" for k in range(self.dim)]


def _point(value, dim: int, key: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float)).ravel()
    if arr.shape != (dim,):
        raise InputError(key, f"needs {dim} component{'s' if dim > 1 else ''} (model.dim = {dim}), got {len(arr)}")
    if not np.all(np.isfinite(arr)):
        raise InputError(key, "must be finite")
    return arr


def check_cell_input(dim, xbar, pbar, n, delta, h, solver):
    """Validate the arguments, naming the case keys of kind 'cell'."""
    xbar, pbar = _point(xbar, dim, "solve.xbar"), _point(pbar, dim, "solve.pbar")
    n, delta, h = float(n), float(delta), float(h)
    if not n > 0:
        raise InputError("solve.n", f"the radius of D_n must be positive, got {n:g}")
    if not delta > 0:
        raise InputError("solve.delta", f"must be positive, got {delta:g}")
    if not h > 0:
        raise InputError("solve.h", f"must be positive, got {h:g}")
    if not h < n:
        raise InputError("solve.h", f"the grid step must be smaller than n = {n:g}, got {h:g}")
    if solver not in SOLVERS:
        raise InputError("solve.solver", f"unknown solver '{solver}'{did_you_mean(str(solver), SOLVERS)}; "
                         f"available: {', '.join(SOLVERS)}")
    return xbar, pbar, n, delta, h


def _fill_estimate(size: int, dim: int, solver: str) -> float:
    """Entries of L + U (direct) or of the multigrid hierarchy and edge-form factors (iterative).

    Measured with SuperLU and MMD on A^T + A for the disc: L + U ~ 4 N log2 N entries
    (3.2 at N = 3e4, 3.9 at N = 3e5); d = 1 is tridiagonal; in d = 3 fill grows like N^(4/3).
    The hierarchy holds 2^d/(2^d - 1) times the fine matrix, a prolongation and a
    restriction of 2^d entries per row at most, and the edge form 3 entries per jump."""
    if solver != "direct":
        return (2.0 * (2 * dim + 1) + 2 * 2**dim + 6 * dim) * size
    if dim == 1:
        return 3.0 * size
    return 5.0 * size * np.log2(size) * size ** ((dim - 2) / 3.0)


class _Direct:
    """SuperLU of the assembled matrix; its solves are refined with the edge-form residual."""

    max_corrections = MAX_REFINE

    def __init__(self, A):
        # splu wants CSC; MMD on A^T + A suits the nearly symmetric 5-point pattern.
        self.lu = spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A")
        self.stats = {}

    def __call__(self, rhs):
        return self.lu.solve(rhs)


class _Multigrid:
    """One geometric-multigrid V-cycle (hjb.multigrid) as the approximate inverse: refining
    with the edge-form residual is then the multigrid iteration itself, and its residual
    is the accurate one.  Measured on the 10^6-unknown disc: set-up 0.25-0.3 s, a cycle
    and a residual 0.13 s, the error shrinking ~0.15x per cycle, against 1.6 s of
    Ruge-Stuben AMG set-up and 15 AMG-GMRES iterations of 0.23 s."""

    max_corrections = MAX_CYCLES

    def __init__(self, op, A, delta, operator_at):
        self.cycle = ball_hierarchy(op, operator_at, delta, matrix=A)
        self.stats = {"levels": len(self.cycle.levels), "operator_complexity": self.cycle.operator_complexity}

    def __call__(self, rhs):
        return self.cycle(rhs)


def _refine(inner, op, delta, rhs, omega):
    """Iterative refinement omega += inner(rhs - (delta I - L) omega) with the edge-form residual.

    Stops when the change of delta omega is below REFINE_TOL (relative to max |rhs|), or
    at rounding level: corrections below ROUNDING_TOL that set no new minimum in STALL
    steps (a multigrid cycle can stall for a step on a slow mode and then go on).
    Returns (omega, corrections, converged)."""
    scale, sizes = max(float(np.max(np.abs(rhs))), 1.0), []
    for step in range(1, inner.max_corrections + 1):
        correction = inner(rhs - op.apply(omega, delta))
        omega = omega + correction
        sizes.append(delta * float(np.max(np.abs(correction))) / scale)
        stalled = len(sizes) > STALL and min(sizes[-STALL:]) >= min(sizes[:-STALL])
        if sizes[-1] <= REFINE_TOL or (stalled and max(sizes[-STALL - 1:]) <= ROUNDING_TOL):
            return omega, step, True
    return omega, inner.max_corrections, False


def solve_truncated_cell(model: TwoScaleModel, xbar, pbar, n: float, delta: float, h: float,
                         solver: str = "direct", refine: bool = True) -> CellSolution:
    """Solve delta omega - (b . D omega + Laplacian omega) = -H(xbar, y, pbar) in D_n, omega = 0 on the sphere.

    ``solver`` is "direct" (SuperLU, factorised once) or "iterative" (geometric
    multigrid on the lattices h, 2h, 4h, ... cut by the ball).  Both correct their
    solution with the residual in edge-difference form (see the module docstring),
    which is what makes delta omega accurate for small delta; ``refine=False`` skips
    this for the direct solver (to show what it buys) and is ignored by the iterative
    one, for which the corrections are the method.
    """
    dim = model.dim
    xbar, pbar, n, delta, h = check_cell_input(dim, xbar, pbar, n, delta, h, solver)
    start = time.perf_counter()

    def drift(y):
        return model.b(xbar, y)

    op = ball_operator(drift, dim, n, h)
    rhs = -np.asarray(model.hamiltonian(xbar, op.nodes, pbar), dtype=float)
    A = op.matrix(delta)
    assembled = time.perf_counter()
    check_memory(12.0 * (3 * A.nnz + _fill_estimate(op.size, dim, solver)), f"the {solver} cell-problem solve",
                 key="solve.h")
    if solver == "direct":
        inner = _Direct(A)
    else:
        inner = _Multigrid(op, A, delta, lambda step: ball_operator(drift, dim, n, step))
    inner.stats["setup_time"] = time.perf_counter() - assembled
    omega, steps = inner(rhs), 0
    if refine or solver != "direct":
        omega, steps, converged = _refine(inner, op, delta, rhs, omega)
        if not converged and solver != "direct":
            raise RuntimeError(f"the multigrid cell solver did not converge in {steps} cycles "
                               f"(n = {n:g}, delta = {delta:g}, h = {h:g}); solver = 'direct' factorises instead")
    solved = time.perf_counter()
    res = float(np.max(np.abs(rhs - op.apply(omega, delta))))
    full = np.full(op.index.shape, np.nan)
    full[op.index >= 0] = omega
    full[op.index == -2] = 0.0
    center = op.index[(len(op.axis) // 2,) * dim]
    return CellSolution(values=omega, omega=full, axis=op.axis, dim=dim, n=n, delta=delta, h=h,
                        delta_omega_at_center=float(delta * omega[center]), solver=solver,
                        unknowns=op.size, nonzeros=int(A.nnz), assembly_time=assembled - start,
                        solve_time=solved - assembled, refinements=steps, residual=res, stats=inner.stats)


# --------------------------------------------------------------------------- H-bar by the cell problem

#: Defaults of METHODS['cell']: delta, and the unknowns aimed at per dimension.
CELL_DELTA = 1e-8
CELL_UNKNOWNS = {1: 8000, 2: 100_000}


def default_radius(model: TwoScaleModel, x: np.ndarray) -> float:
    """A radius n such that D_n holds the ball around the y-box centre with its largest half-width
    (the box of :func:`hjb.invariant.markov_box`; for the deep-relaxation model the ball outside
    which mu_x has density below e^-40 of its peak, so exits are never the issue)."""
    from .invariant import markov_box
    lo, hi = markov_box(model, x)
    return float(np.linalg.norm(0.5 * (lo + hi)) + np.max(0.5 * (hi - lo)))


def hbar_cell(model: TwoScaleModel, x, p, n=None, delta: float = CELL_DELTA, h=None, solver: str = "direct",
              richardson: bool = True) -> np.ndarray:
    """H-bar(x_i, p_i) ~ -delta omega(0) of the truncated cell problem (METHODS['cell']).

    Defaults: n from :func:`default_radius`, delta = 1e-8, h giving about
    CELL_UNKNOWNS unknowns; with ``richardson`` the values at h and 2h are
    combined as (4 v_h - v_2h)/3 to remove the O(h^2) term of the error (the term
    is a clean c h^2 only when the kink of h(y) at y = xbar lies on grid nodes;
    otherwise extrapolation still helps but less predictably: measured in
    tests/test_hbar_three_ways.py, errors 1e-8 ... 1e-5 against quadrature).
    """
    x, p = as_points(x, model.dim), as_points(p, model.dim)
    unknowns = CELL_UNKNOWNS.get(model.dim, 200_000)
    ball = pi ** (model.dim / 2) / gamma(model.dim / 2 + 1)   # volume of the unit ball
    out = np.empty(len(x))
    for i in range(len(x)):
        radius = default_radius(model, x[i]) if n is None else float(n)
        # |D_n| / h^d = the unknowns aimed at
        step = radius * (ball / unknowns) ** (1.0 / model.dim) if h is None else float(h)
        fine = solve_truncated_cell(model, x[i], p[i], radius, delta, step, solver=solver).delta_omega_at_center
        if richardson:
            coarse = solve_truncated_cell(model, x[i], p[i], radius, delta, 2 * step,
                                          solver=solver).delta_omega_at_center
            fine = (4.0 * fine - coarse) / 3.0
        out[i] = -fine
    return out


def _register():
    from .hamiltonian import METHODS
    METHODS["cell"] = hbar_cell


_register()
