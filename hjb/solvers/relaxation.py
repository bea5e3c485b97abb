"""How the Fokker-Planck density relaxes (SPEC section 7): the spectral gap of the generator,
the Gibbs masses it relaxes to, the basins of attraction of gradient descent and the
probability current.

Q is the monotone generator of L = (1/beta) Laplacian - grad f . grad on the box
(reflecting walls, :mod:`hjb.operators.generator`): a Markov generator, singular
with Q 1 = 0 and pi^T Q = 0 for its stationary masses pi.  The spectral gap
lambda_1 is the smallest non-zero eigenvalue of -Q, found as the largest
eigenvalue of the group inverse (-Q)^#: shift-invert at sigma = 0 with the null
vector deflated.  (-Q)^# x = P G P x, P = I - 1 pi^T the projection onto the range,
G the solve with -Q grounded at one node k (row and column k removed: a
non-singular M-matrix, factorised once; it also gives pi).

When the chain is reversible (pi_i Q_ij = pi_j Q_ji: always in d = 1, and for
separable losses; checked by Kolmogorov's criterion on the rates, no pi involved) -Q is similar to the symmetric -S, S_ij = sqrt(Q_ij Q_ji) =
sqrt(pi_i / pi_j) Q_ij, with null vector sqrt(pi), and ARPACK's Lanczos
(``eigsh``) runs on S's group inverse; built from the rates, S needs no
division by pi, which underflows in the far tails.  Otherwise (a non-separable
loss in d >= 2: the fitted rates satisfy detailed balance only up to O(h^2)) the
non-symmetric Arnoldi iteration (``eigs``) runs on Q's.  Small chains use dense
eigenvalue routines.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..limits import CSR_ENTRY, SLACK, SUPERLU_ENTRY, superlu_bytes
from ..operators.generator import SCHEMES, reflecting_generator

#: Chains with at most this many states use dense eigenvalue routines (ARPACK needs a few more
#: states than the eigenvalues it returns; beyond tiny chains the grounded sparse solve is faster).
DENSE_STATES = 50
#: Detailed balance counts as exact below this defect of Kolmogorov's criterion (a sum of
#: log rate ratios around each plaquette, relative to the largest log ratio): rounding level.
REVERSIBLE_TOL = 1e-12


def m_matrix_lu(A: sp.spmatrix):
    """SuperLU of an M-matrix with diagonal pivots on a symmetric ordering: the factors keep the
    M-matrix signs, so a solve with a non-negative right-hand side is non-negative even in rounding."""
    return spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                     options={"SymmetricMode": True})


def gibbs_masses(f_values: np.ndarray, beta: float) -> np.ndarray:
    """exp(-beta f) / Z at the nodes, normalised to sum 1 (shifted by min f: no overflow)."""
    w = np.exp(-beta * (f_values - np.min(f_values)))
    return w / np.sum(w)


class GroundedGenerator:
    """-Q with row and column k removed (k: the node of largest stationary mass), factorised once."""

    def __init__(self, Q: sp.csr_matrix, k: int):
        n = Q.shape[0]
        self.k, self.keep = k, np.arange(n) != k
        minus = (-Q).tocsr()
        self.lu = m_matrix_lu(minus[self.keep][:, self.keep])
        self.row_k = np.asarray(Q[k].todense()).ravel()[self.keep]

    def stationary(self) -> np.ndarray:
        """pi with Q^T pi = 0, sum 1: (-Q_{-k,-k})^T pi_{-k} = Q_{k,-k}, pi_k = 1."""
        pi = np.empty(len(self.keep))
        pi[self.keep] = self.lu.solve(self.row_k, trans="T")
        pi[self.k] = 1.0
        return pi / np.sum(pi)

    def solve(self, x: np.ndarray) -> np.ndarray:
        """z with z_k = 0 and (-Q z)_j = x_j for j != k."""
        z = np.zeros(len(x))
        z[self.keep] = self.lu.solve(x[self.keep])
        return z


def _axis_rates(Q: sp.csr_matrix, shape: tuple, k: int):
    """(forward, backward) rates of the edges along axis k, each of the shape with n_k - 1 on axis k."""
    index = np.arange(int(np.prod(shape))).reshape(shape)
    lo = index[(slice(None),) * k + (slice(0, -1),)]
    hi = index[(slice(None),) * k + (slice(1, None),)]
    forward = np.asarray(Q[lo.ravel(), hi.ravel()]).reshape(lo.shape)
    backward = np.asarray(Q[hi.ravel(), lo.ravel()]).reshape(lo.shape)
    return forward, backward


def kolmogorov_defect(Q: sp.csr_matrix, shape: tuple) -> float:
    """max over the plaquettes of the lattice of |sum of log(Q_ij / Q_ji) around it|, relative
    to 1 + the largest |log ratio| (0 for a reversible chain, Kolmogorov's criterion; 0 in d = 1)."""
    logs = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(len(shape)):
            forward, backward = _axis_rates(Q, shape, k)
            logs.append(np.log(forward) - np.log(backward))
    scale = 1.0 + max(float(np.max(np.abs(r), initial=0.0)) for r in logs)
    defect = 0.0
    for k in range(len(shape)):
        for m in range(k + 1, len(shape)):
            cut = lambda axis, lo: tuple(slice(lo, None if lo else -1) if j == axis else slice(None)  # noqa: E731
                                         for j in range(len(shape)))
            # r_k(i) + r_m(i + e_k) - r_k(i + e_m) - r_m(i), all on the plaquettes' lower corners
            loop = (logs[k][cut(m, 0)] + logs[m][cut(k, 1)] - logs[k][cut(m, 1)] - logs[m][cut(k, 0)])
            defect = max(defect, float(np.max(np.abs(loop), initial=0.0)) if np.all(np.isfinite(loop)) else np.inf)
    return defect / scale


def _symmetrised(Q: sp.csr_matrix) -> sp.csr_matrix:
    """-S: diagonal -Q_ii, off-diagonals -sqrt(Q_ij Q_ji)."""
    off = (Q - sp.diags(Q.diagonal())).tocsr()
    geometric = off.multiply(off.T).sqrt()
    return (sp.diags(-Q.diagonal()) - geometric).tocsr()


def spectral_gap(Q: sp.csr_matrix, shape: tuple, grounded: GroundedGenerator = None) -> float:
    """The smallest non-zero eigenvalue lambda_1 of -Q (real part, for a non-reversible chain);
    Q acts on the lattice of ``shape`` (nearest-neighbour jumps), ``grounded`` as built from Q."""
    n = Q.shape[0]
    grounded = grounded or GroundedGenerator(Q, int(np.argmax(Q.diagonal())))   # the slowest node
    reversible = kolmogorov_defect(Q, shape) <= REVERSIBLE_TOL
    if n <= DENSE_STATES:
        if reversible:
            return float(scipy.linalg.eigvalsh(_symmetrised(Q).toarray())[1])
        return float(np.sort(np.linalg.eigvals(-Q.toarray()).real)[1])
    start = np.random.default_rng(0).standard_normal(n)         # deterministic Krylov start
    if reversible:
        minus_S = _symmetrised(Q)
        k = grounded.k
        lu = m_matrix_lu(minus_S[grounded.keep][:, grounded.keep])
        root = np.empty(n)
        root[grounded.keep] = lu.solve(-np.asarray(minus_S[grounded.keep][:, [k]].todense()).ravel())
        root[k] = 1.0
        root /= np.linalg.norm(root)                            # sqrt(pi), the null vector of S

        def apply(x):
            x = x - root * (root @ x)
            z = np.zeros(n)
            z[grounded.keep] = lu.solve(x[grounded.keep])
            return z - root * (root @ z)

        op = spla.LinearOperator((n, n), matvec=apply, dtype=float)
        nu = spla.eigsh(op, k=1, which="LA", v0=apply(start), tol=1e-12, ncv=min(n - 1, 20),
                        return_eigenvectors=False)
        return float(1.0 / np.max(nu))

    pi = grounded.stationary()

    def apply_group(x):                                         # P G P x, P = I - 1 pi^T
        x = x - np.sum(pi * x)
        z = grounded.solve(x)
        return z - np.sum(pi * z)

    op = spla.LinearOperator((n, n), matvec=apply_group, dtype=float)
    nu = spla.eigs(op, k=2, which="LM", v0=apply_group(start), tol=1e-12, ncv=min(n - 1, 20),
                   return_eigenvectors=False)
    return float(np.min((1.0 / nu[np.abs(nu) > 0]).real))


def descent_basins(f_values: np.ndarray) -> np.ndarray:
    """For every node, the flat index of the local minimum that discrete steepest descent
    (to the lowest lower axis neighbour) reaches from it; array of the grid's shape.

    Pointers to the next node are followed by pointer doubling (about log2 N array steps)."""
    shape = f_values.shape
    index = np.arange(f_values.size).reshape(shape)
    best, parent = f_values.copy(), index.copy()
    for k in range(f_values.ndim):
        for here, there in ((slice(0, -1), slice(1, None)), (slice(1, None), slice(0, -1))):
            at = (slice(None),) * k + (here,)
            nbr = (slice(None),) * k + (there,)
            lower = f_values[nbr] < best[at]
            best[at] = np.where(lower, f_values[nbr], best[at])
            parent[at] = np.where(lower, index[nbr], parent[at])
    parent = parent.ravel()
    while True:
        jumped = parent[parent]
        if np.array_equal(jumped, parent):
            return parent.reshape(shape)
        parent = jumped


def edge_flux(masses: np.ndarray, spacings, drift: np.ndarray, beta: float, rates: str) -> list:
    """Net mass per unit time across each edge along each axis k (i -> i + e_k positive):
    (m_i Q_{i,i+e_k} - m_{i+e_k} Q_{i+e_k,i}), the rates of the generator of
    (1/beta)(Laplacian + b . D), b = ``drift`` (= -beta grad f)."""
    out = []
    for k, h in enumerate(spacings):
        lo = (slice(None),) * k + (slice(0, -1),)
        hi = (slice(None),) * k + (slice(1, None),)
        up, down = SCHEMES[rates](drift[..., k][lo], drift[..., k][hi], float(h))
        out.append((masses[lo] * up - masses[hi] * down) / beta)
    return out


def reversible_on(loss, grid, beta: float, rates: str = "fitted", points: int = 17) -> bool:
    """Whether the chain of the Fokker-Planck generator is reversible, judged on a coarse grid
    of the same box (``points`` per axis): Kolmogorov's criterion holds for every h or for none."""
    if grid.dim == 1:
        return True
    coarse = type(grid).box(grid.lower, grid.upper, np.minimum(grid.shape, points))
    drift = -beta * loss.grad(coarse.nodes())
    Q = reflecting_generator(coarse.shape, tuple(range(coarse.dim)), coarse.spacings, drift, rates)
    return kolmogorov_defect(Q.tocsr(), coarse.shape) <= REVERSIBLE_TOL


def fokker_planck_memory(n: int, d: int, stops: int, frames: int, fill: float, reversible: bool) -> float:
    """Bytes at the peak of :func:`hjb.solvers.fokker_planck.solve_fokker_planck` on n nodes in
    dimension d (calibrated by scripts/bench_memory.py): ``fill`` entries of L + U a factorisation,
    ``stops`` time levels kept (``frames`` of them extra, copied out at the end)."""
    matrix = CSR_ENTRY * (2 * d + 1) + 4                  # one generator-sized CSR matrix, per node
    base = 8.0 * (2 * d + 4) + 2 * matrix + 24.0 * d       # nodes, drift, f, Gibbs, basins; Q, Q^T, triplets
    factors = SUPERLU_ENTRY * fill / n
    grounded = 2 * matrix + superlu_bytes(1, fill / n)     # -Q and its reduced copy, factorised
    if reversible:                                         # the grounded factors; -S, its reduced copy, factorised
        gap = factors + 2 * matrix + superlu_bytes(1, fill / n)
    else:                                                  # the grounded factors; Arnoldi vectors
        gap = factors + 8.0 * 25
    end = factors + 8.0 * (2 * stops + frames)             # a step's factors; the levels, stacked, frames
    return SLACK * n * (base + max(grounded, gap, end))
