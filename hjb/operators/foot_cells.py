"""Where the feet of the characteristics lie: the cell of each foot and its offset in it.

A semi-Lagrangian step reads V at the foot z + v(z) dt of every node z.  Along an x-axis of
n nodes and spacing h the foot has the fractional node coordinate

    s = clip(i_z + v dt / h, 0, n - 1)          (feet outside the box moved back onto it)

and is interpolated from the nodes around i = floor(s): linearly from i, i + 1 (i <= n - 2),
cubically from i - 1 .. i + 2 (i clipped to 1 .. n - 3: the stencil shifted inward at the
walls), each at the offset t = s - i.  The interpolation matrices of
:func:`hjb.operators.transport.foot_interpolation` and
:func:`hjb.operators.interpolation.cubic_foot_interpolation` are assembled from these, and
so are the :class:`FootCells` that the compiled step (:mod:`hjb.operators.fused_step`) reads
instead of the matrices: per node and control a flat index and d offsets for each of the
two stencils, 24 bytes a node in d = 1 and 40 in d = 2 against 72 and 240 for the CSR
matrices, and the weights are recomputed from t on the fly.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


def foot_coordinate(shape, axis: int, velocity: np.ndarray, dt: float, spacing: float) -> np.ndarray:
    """s = clip(i + v dt / h, 0, n - 1) at every node (the shape of ``velocity``), i the
    node's index along ``axis``."""
    n = shape[axis]
    index = np.arange(n).reshape([-1 if k == axis else 1 for k in range(len(shape))])
    return np.clip(index + velocity * dt / spacing, 0.0, n - 1.0)


def linear_cell(s: np.ndarray, n: int) -> np.ndarray:
    """The lower node i of the linear stencil i, i + 1 around the coordinate s."""
    return np.minimum(np.floor(s), n - 2).astype(np.int64)


def cubic_cell(s: np.ndarray, n: int) -> np.ndarray:
    """The node i of the cubic stencil i - 1 .. i + 2 around s, shifted inward at the walls."""
    return np.clip(np.floor(s), 1, n - 3).astype(np.int64)


def flat_strides(shape) -> np.ndarray:
    """How far the flat (C-order) index moves for one step along each axis."""
    return np.array([int(np.prod(shape[k + 1:], dtype=np.int64)) for k in range(len(shape))], dtype=np.int64)


def corner_offsets(shape, axes, width: int) -> np.ndarray:
    """The flat offsets of the width^d corners of a stencil along ``axes``, in the order of
    itertools.product (the order the matrices store and sum them)."""
    strides = flat_strides(shape)
    return np.array([sum(c * int(strides[a]) for c, a in zip(corner, axes))
                     for corner in itertools.product(range(width), repeat=len(axes))], dtype=np.int64)


@dataclass
class FootCells:
    """The linear and the cubic stencil of every foot of one control: the flat index of the
    stencil's first corner (node i, or i - 1 for the cubic one, along every axis), the offsets
    t of the foot along each axis, (d, N), and the corners' flat offsets from the first."""

    linear_origin: np.ndarray
    linear_offset: np.ndarray
    cubic_origin: np.ndarray
    cubic_offset: np.ndarray
    linear_corners: np.ndarray
    cubic_corners: np.ndarray


def stencils(shape, axes, spacings, velocity: np.ndarray, dt: float, cell, before: int):
    """(origin, offsets) of the stencils of the feet z + velocity(z) dt: the flat index of each
    stencil's first corner (``before`` nodes below the node ``cell(s, n)`` along every axis),
    with the shape of the grid, and the offsets t = s - cell(s, n), one array per axis."""
    strides = flat_strides(shape)
    origin = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    offsets = []
    for k, axis in enumerate(axes):
        n = shape[axis]
        s = foot_coordinate(shape, axis, velocity[..., k], dt, spacings[k])
        i = cell(s, n)
        own = np.arange(n).reshape([-1 if j == axis else 1 for j in range(len(shape))])
        origin = origin + (i - before - own) * strides[axis]
        offsets.append(s - i)
    return origin, offsets


def foot_cells(shape, axes, spacings, velocity: np.ndarray, dt: float) -> FootCells:
    """The :class:`FootCells` of the feet z + velocity(z) dt (``velocity``: shape + (len(axes),)).
    Indices are unsigned (the compiled kernels then index without a sign test)."""
    index_type = np.uint32 if int(np.prod(shape, dtype=np.int64)) < 2**32 else np.uint64
    cells = []
    for cell, before in ((linear_cell, 0), (cubic_cell, 1)):
        origin, offsets = stencils(shape, axes, spacings, velocity, dt, cell, before)
        cells += [origin.ravel().astype(index_type), np.array([t.ravel() for t in offsets])]
    return FootCells(*cells, corner_offsets(shape, axes, 2).astype(index_type),
                     corner_offsets(shape, axes, 4).astype(index_type))
