"""The linear Dirichlet problem (delta I - L) omega = r on the ball D_n, accurate for small delta.

L is the fitted cut-cell operator of :mod:`hjb.operators.ball` (homogeneous
Dirichlet data on the sphere).  Used by the truncated cell problem
(delta > 0, r = -H) and by the mean exit time from a ball (delta = 0, r = 1).

Conditioning and accuracy
-------------------------
The matrix has diagonal ~ 2d/h^2 + delta and row sums delta, so forming the
diagonal already loses delta relative to 2d/h^2: a plain solve determines
delta omega only to ~ eps / (delta h^2).  The cure is the one for M-matrices
given by their off-diagonals and row sums (as in GTH elimination): the
residual is evaluated in edge-difference form,

    r_i - delta omega_i + sum_arms rate (omega_nbr - omega_i),

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
from typing import Callable, Optional

import numpy as np
import scipy.sparse.linalg as spla

from ..errors import InputError, did_you_mean
from ..limits import CSR_ENTRY, SLACK, check_memory, superlu_bytes
from ..operators.ball import BallOperator, ball_unknowns, drift_bound, operator_memory
from ..operators.multigrid import COARSEST, ball_hierarchy, coarsest_rows

#: Refinement stops when the correction of delta omega is below REFINE_TOL (relative to
#: max |r|), or when corrections below ROUNDING_TOL set no new minimum in STALL steps.
REFINE_TOL = 1e-14
ROUNDING_TOL = 1e-10
STALL = 3
#: At most this many corrections: direct solver (each gains ~ -log10(eps cond) digits)
#: and multigrid cycles (each gains about one digit).
MAX_REFINE = 12
MAX_CYCLES = 60
SOLVERS = ("direct", "iterative")


def check_solver(solver) -> None:
    if solver not in SOLVERS:
        raise InputError("solver", f"unknown solver '{solver}'{did_you_mean(str(solver), SOLVERS)}; "
                         f"available: {', '.join(SOLVERS)}")


def fill_estimate(size: int, dim: int, solver: str) -> float:
    """Entries of L + U (direct) or of the multigrid hierarchy and edge-form factors (iterative).

    Measured with SuperLU and MMD on A^T + A for the disc: L + U ~ 4 N log2 N entries
    (3.2 at N = 3e4, 3.9 at N = 3e5, 4.2 at N = 1e6; 3.6-3.9 on the square box); d = 1
    is tridiagonal (4 a row); in d = 3 fill grows like N^(4/3).
    The hierarchy holds 2^d/(2^d - 1) times the fine matrix, a prolongation and a
    restriction of 2^d entries per row at most, and the edge form 3 entries per jump."""
    if solver != "direct":
        return (2.0 * (2 * dim + 1) + 2 * 2**dim + 6 * dim) * size
    if dim == 1:
        return 4.0 * size
    return 4.5 * size * np.log2(max(size, 2)) * size ** ((dim - 2) / 3.0)


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
    """One geometric-multigrid V-cycle (hjb.operators.multigrid) as the approximate inverse:
    refining with the edge-form residual is then the multigrid iteration itself, and its
    residual is the accurate one.  Measured on the 10^6-unknown disc: set-up 0.25-0.3 s, a
    cycle and a residual 0.13 s, the error shrinking ~0.15x per cycle, against 1.6 s of
    Ruge-Stuben AMG set-up and 15 AMG-GMRES iterations of 0.23 s."""

    max_corrections = MAX_CYCLES

    def __init__(self, op, A, delta, operator_at):
        self.cycle = ball_hierarchy(op, operator_at, delta, matrix=A)
        self.stats = {"levels": len(self.cycle.levels), "operator_complexity": self.cycle.operator_complexity}

    def __call__(self, rhs):
        return self.cycle(rhs)


def refine(inner, op: BallOperator, delta: float, rhs, omega):
    """Iterative refinement omega += inner(rhs - (delta I - L) omega) with the edge-form residual.

    Stops when the change of delta omega is below REFINE_TOL (relative to max |rhs|), or
    at rounding level: corrections below ROUNDING_TOL that set no new minimum in STALL
    steps (a multigrid cycle can stall for a step on a slow mode and then go on).  With
    delta = 0 the change of omega itself is measured.  Returns (omega, corrections, converged)."""
    scale, sizes = max(float(np.max(np.abs(rhs))), 1.0), []
    weight = delta if delta > 0 else 1.0
    for step in range(1, inner.max_corrections + 1):
        correction = inner(rhs - op.apply(omega, delta))
        omega = omega + correction
        sizes.append(weight * float(np.max(np.abs(correction))) / scale)
        stalled = len(sizes) > STALL and min(sizes[-STALL:]) >= min(sizes[:-STALL])
        if sizes[-1] <= REFINE_TOL or (stalled and max(sizes[-STALL - 1:]) <= ROUNDING_TOL):
            return omega, step, True
    return omega, inner.max_corrections, False


@dataclass
class BallSolve:
    """omega on the unknowns of the operator, and how it was obtained."""

    values: np.ndarray
    corrections: int
    residual: float
    nonzeros: int
    solve_time: float
    stats: dict = field(default_factory=dict)


def solve_ball(op: BallOperator, delta: float, rhs: np.ndarray, solver: str = "direct",
               operator_at: Optional[Callable[[float], BallOperator]] = None, refined: bool = True,
               what: str = "ball") -> BallSolve:
    """omega with (delta I - L) omega = rhs on the unknowns of ``op`` (omega = 0 on the sphere).

    ``solver`` is "direct" (SuperLU, factorised once) or "iterative" (geometric
    multigrid on the lattices h, 2h, 4h, ... cut by the ball; ``operator_at(h)``
    re-assembles the operator at step h).  Both correct their solution with the
    edge-form residual; ``refined=False`` skips this for the direct solver (to show
    what it buys) and is ignored by the iterative one, for which the corrections
    are the method.  delta = 0 is allowed when every node can reach the sphere
    (then -L itself is a non-singular M-matrix).
    """
    check_solver(solver)
    start = time.perf_counter()
    dim = op.nodes.shape[1]
    check_memory(memory_estimate(op.size, dim, solver, box=not np.isfinite(op.radius)), f"the {solver} {what} solve",
                 key="h")
    A = op.matrix(delta)
    if solver == "direct":
        inner = _Direct(A)
    else:
        inner = _Multigrid(op, A, delta, operator_at)
    inner.stats["setup_time"] = time.perf_counter() - start
    omega, corrections = inner(rhs), 0
    if refined or solver != "direct":
        omega, corrections, converged = refine(inner, op, delta, rhs, omega)
        if not converged and solver != "direct":
            raise RuntimeError(f"the multigrid {what} solver did not converge in {corrections} cycles "
                               f"(h = {op.step:g}); solver = 'direct' factorises instead")
    solved = time.perf_counter()
    res = float(np.max(np.abs(rhs - op.apply(omega, delta))))
    return BallSolve(omega, corrections, res, int(A.nnz), solved - start, inner.stats)


def on_square_grid(op: BallOperator, values: np.ndarray) -> np.ndarray:
    """Values of the unknowns on the square grid of axis nodes: NaN outside the ball, 0 on the sphere."""
    full = np.full(op.index.shape, np.nan)
    full[op.index >= 0] = values
    full[op.index == -2] = 0.0
    return full


def memory_estimate(unknowns: float, dim: int, solver: str, coarsest: float = COARSEST, box: bool = False) -> float:
    """Bytes :func:`solve_ball` adds to its operator at its peak (calibrated by scripts/bench_memory.py):
    the matrix, then SuperLU's factorisation (direct) or the multigrid hierarchy, its coarsest
    level's factors (``coarsest`` unknowns, :func:`hjb.operators.multigrid.coarsest_rows`) and
    the edge form of the residual (iterative).  On a ``box`` the factors are smaller (measured
    3.6-3.9 N log2 N entries against the disc's 4.2)."""
    n = float(unknowns)
    matrix = n * (CSR_ENTRY * (2 * dim + 1) + 4 + 12.0 * 2 * dim)   # CSR, and its triplets in the heap
    if solver == "direct":
        fill = fill_estimate(n, dim, "direct") * (0.87 if box and dim > 1 else 1.0)
        return SLACK * (matrix + superlu_bytes(n, fill))
    levels = (n * (56.0 * dim + 56) + matrix) / (2**dim - 1)        # the coarser operators and matrices
    transfers = 2 * n * (CSR_ENTRY * 1.5**dim + 4)                  # prolongations and restrictions
    edges = n * (80.0 * dim + 8)                                    # differences along the jumps, sums
    coarse = superlu_bytes(coarsest, fill_estimate(coarsest, dim, "direct")) if coarsest > 1 else 0.0
    return SLACK * (matrix + levels + transfers + edges + coarse)


def ball_memory(drift, dim: int, n: float, h: float, solver: str) -> float:
    """Bytes at the peak of assembling the operator on D_n at step h and solving on it: the
    assembly, or the operator held while :func:`solve_ball` runs, with the values on the square grid."""
    assembly, held = operator_memory(dim, n, h)
    unknowns, square = ball_unknowns(dim, n, h)
    coarsest = COARSEST if solver == "direct" else coarsest_rows(unknowns, dim, h, n, drift_bound(drift, dim, n))
    return max(assembly, held + memory_estimate(unknowns, dim, solver, coarsest)) + 16.0 * square
