"""The memory :func:`hjb.solve_effective` plans: the averaged velocities, then the march."""
from __future__ import annotations

from ..grid import Grid
from ..hbar.velocities import DEFAULT_RESOLUTION, TIE_BLOCK, convolution_bytes, convolution_chosen, unit_directions
from ..limits import CSR_ENTRY, SLACK
from ..model import TwoScaleModel
from ..operators.quadrature import MAX_NODES, chunk_size
from .invariant import default_size, memory_estimate as invariant_memory


def memory_estimate(model: TwoScaleModel, grid: Grid, extended: bool = True,
                    resolution: int = DEFAULT_RESOLUTION) -> float:
    """Bytes at the peak of :func:`solve_effective`: the larger of the averages of the m candidate
    velocities (correlations, or P point-nodes a chunk) and the march (calibrated by scripts/bench_memory.py)."""
    d, n = model.dim, grid.size
    m = len(model.control_values) + (len(unit_directions(d, resolution)) if extended else 0)
    if convolution_chosen(model, grid, extended, resolution):    # correlations over the whole grid
        averages = convolution_bytes(model, grid, extended, resolution)
    elif model.potential is None:       # one invariant measure per node, then its nodes' velocities
        size = max(default_size(model, x) for x in grid.sample(3))
        averages = invariant_memory(size, d) / SLACK + 8.0 * size * (2 * m * d + d + 4)
    else:
        P, _ = chunk_size(model, grid.sample(), n)
        u = len(model.control_values)
        B = min(P * (m - u), max(TIE_BLOCK, MAX_NODES * (m - u)))   # bang_bang_average's block
        averages = (8.0 * P * (2 * d + 2                       # nodes y, offsets; log-weights, weights
                               + max(3 * d + 3, u * d + d))    # the potential's temporaries, or phi
                    # payoffs, share, max, where; ties (two control values: a payoff difference,
                    # its share, a product)
                    + (B * (8.0 * (3 if u == 2 else u + 4) + u) if extended else 0.0))
    averages += 16.0 * n * m * d                               # the averages per node, then concatenated
    march = n * (8.0 * m * d                                   # the velocity table
                 + m * (CSR_ENTRY * 2**d + 4)                  # an interpolation matrix per candidate
                 + 48 * d + 40 * 2**d                          # one matrix's assembly
                 + 16 * m * d                                  # the filtered step's upwind parts
                 + 32 + 8 * (4 * d + 12))                      # values; the filtered step's stages
    return SLACK * max(averages, march)
