"""How much memory the eps-HJB solve (:mod:`hjb.solvers.eps_hjb`) needs, before it allocates."""
from __future__ import annotations

import numpy as np

from ..grid import Grid
from ..limits import CSR_ENTRY, SLACK, SUPERLU_ENTRY, colamd_fill, superlu_bytes
from ..model import TwoScaleModel
from ..operators import batched_lu
from ..operators.lu_pattern import analysis_bytes
from ..operators.fast_solve import BLOCK_LU_BYTES_PER_ENTRY, BLOCK_LU_BYTES_PER_ROW, mmd_fill, uses_blocks
from ..operators.thomas import BATCHED_BYTES_PER_ROW
from .eps_hjb_step import compiled_step_chosen


#: Bytes a node of the feet cells of one control take, per x-dimension and fixed
#: (:class:`hjb.operators.foot_cells.FootCells`: two uint32 indices, 2 d offsets).
CELL_BYTES_PER_DIM, CELL_BYTES = 16, 8

#: What importing numba and loading the compiled step add to the resident memory (measured
#: 46 MiB from the peaks at 801^2 and 1601^2).
NUMBA_BYTES = 50 * 2**20

#: Nodes of each grid at which :func:`moving_controls` evaluates phi (all of them when fewer).
SAMPLE = 300


def moving_controls(model: TwoScaleModel, x_grid: Grid, y_grid: Grid) -> int:
    """How many control values move x: phi is not zero at some pair of (up to) 300 x-nodes and
    300 y-nodes taken evenly from the grids.  Only those get interpolation matrices."""
    x, y = (g.nodes().reshape(-1, g.dim)[:: max(g.size // SAMPLE, 1)] for g in (x_grid, y_grid))
    return sum(bool(np.any(np.asarray(model.phi(x[:, None], y[None], u)) != 0.0)) for u in model.control_values)


def memory_estimate(model: TwoScaleModel, x_grid: Grid, y_grid: Grid, snapshots: int = 0,
                    splitting: str = "lie", interpolation: str = "cubic") -> float:
    """Bytes the solve holds at its peak: the larger of the factorisation of the fast part and
    the march (calibrated against measured peak RSS by scripts/bench_memory.py).

    Per node of the product grid, with n_c control values of which n_u move x (only those get
    interpolation matrices: :func:`moving_controls`).  With one y-axis the fast matrix is
    tridiagonal by blocks (the batched Thomas factors of :mod:`hjb.operators.thomas`); otherwise it is
    block diagonal, one block per x-node, with F entries of L + U a row
    (:func:`hjb.operators.fast_solve.mmd_fill`) when the blocks are large: their values only with
    numba (:mod:`hjb.operators.batched_lu`), SuperLU block by block without; else by one SuperLU
    of the whole (:func:`hjb.limits.colamd_fill`).  The compiled cubic step
    (:func:`hjb.solvers.eps_hjb_step.compiled_step_chosen`) keeps the cells of the feet instead
    of the interpolation matrices, and its fused kernels allocate no temporaries."""
    d, size, n_u = model.dim, x_grid.size * y_grid.size, moving_controls(model, x_grid, y_grid)
    n_c = len(model.control_values)
    tridiagonal = y_grid.dim == 1
    uses_numba = False                                        # the batched LU or the compiled step
    entries = 2 * d + 1                                       # of the fast generator, a row
    build = (8 * d * n_c                                      # the slow drift of each control
             + 8 * d                                          # the fast drift
             + 2 * (CSR_ENTRY * entries + 4)                  # L and I - (dt/eps) L
             + 24 * 2 * d)                                    # the generator's triplets, left in the heap
    if tridiagonal:
        factors = BATCHED_BYTES_PER_ROW
        # the diagonals and the assembly's transients: the peak of the build, before the factors
        # (measured 188 B a node in d = 1 with two controls, by tracemalloc)
        build = size * (build + 3 * 8 + 16)
    elif uses_blocks(size, x_grid.size) and batched_lu.chosen(size):
        factors = 8 * mmd_fill(y_grid.size, d)                # values only: one pattern for all blocks
        # the fast drift and L are freed before the factorisation (product_grid.fast_matrix): its
        # peak holds the slow drifts, I - (dt/eps) L, the values, the pattern check's and the gather's copies
        factorization = 8 * d * n_c + CSR_ENTRY * entries + 4 + factors + 40
        build = size * max(build, factorization) + analysis_bytes(y_grid.size, mmd_fill(y_grid.size, d))
        uses_numba = True
    elif uses_blocks(size, x_grid.size):
        fill = mmd_fill(y_grid.size, d)
        factors = BLOCK_LU_BYTES_PER_ENTRY * fill + BLOCK_LU_BYTES_PER_ROW
        build = size * (build + factors) + superlu_bytes(y_grid.size, fill * y_grid.size)  # + one block's work
    else:
        fill = colamd_fill(y_grid.size, d) / y_grid.size
        factors = SUPERLU_ENTRY * fill
        build = size * (build + 4 * entries) + superlu_bytes(size, fill * size)  # + splu's index copy, work
    compiled = compiled_step_chosen(size, interpolation, x_grid.shape)
    if compiled:      # the cells of the feet, built while the drifts live (freed after the build)
        feet, building = n_u * (CELL_BYTES + CELL_BYTES_PER_DIM * d), n_c * 8 * d
    else:             # a linear and a cubic matrix per moving control, built from the drifts (the assembly)
        feet, building = n_u * (CSR_ENTRY * (2**d + 4**d) + 8), n_c * 8 * d + 48 * d + 40 * 2**d
    correction = 0
    if splitting == "corrected":             # the averaging correction: delta of each moving control;
        rows = 1 + d + d * (d + 1) // 2      # V* and delta's moments, solved; u*, the Hessian, the filter
        correction = 8 * d * n_u + 2 * 8 * rows + 8 + 8 * d   # (measured: about 40 B a node in d = 1)
    march = size * (factors                                   # the LU factors
                    + feet
                    + 16 + 16 * snapshots                     # value, next value; levels kept, then stacked
                    + max(building, correction))              # the build's drifts and assembly, or the steps' arrays
    return SLACK * (max(build, march) + (NUMBA_BYTES if compiled or uses_numba else 0.0))
