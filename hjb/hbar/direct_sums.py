"""The correlations' sums taken directly, at the x-nodes where FFT round-off would swamp them.

At such a node x (its loss well above the least on the box, :mod:`hjb.hbar.convolution`) a
kernel factor c(z)'s sum is

    sum over the window of exp(-(f(x + z) + gamma |z|^2 / 2 - C)) c(z),

C the least exponent over the window (so that nothing that matters over- or underflows; the
factor exp(-C) cancels in M and H).  The window is the kernel's, as wide as the widest Gibbs
window on the grid, but where the loss is steep the node's mass sits in a small part of it:
for the quadratic a = 40, gamma = 5 on [-5, 5]^2, at a corner, a disc of radius about 1.3 (where
the exponent is within NEGLIGIBLE of its least) six units from x, in a window of half-width
7.8.  The sums are therefore taken over a box that holds every window node whose exponent is
within NEGLIGIBLE of C (the rest changes a sum by at most e^-NEGLIGIBLE times its peak term),
found without evaluating the window: the window is cut into cells of refinement^d y-nodes (one
x-cell each), and on a cell

    f(x + z) + gamma |z|^2 / 2  >=  least f on the cell + gamma/2 (least |z| on the cell)^2,

while least f + gamma/2 (largest |z|)^2 on a cell wholly inside the window bounds C from
above.  A cell whose lower bound exceeds that upper bound plus NEGLIGIBLE holds no node that
matters.  The cells' least f is taken once on the whole fine grid (the windows of the x-nodes
start on cell corners), so finding the boxes costs a cell's worth of work per cell, not per
y-node.
"""
from __future__ import annotations

import numpy as np

from ..model import NEGLIGIBLE

#: Consecutive nodes whose boxes are joined into one matrix product.
BOX_BATCH = 8
#: Bytes of a batch's per-cell bounds, or of its boxes' weights and factors, held at once.
DIRECT_BYTES = 2**26


def cell_minima(f: np.ndarray, refinement: tuple, cells: tuple) -> np.ndarray:
    """The least of f over each cell of refinement^d fine nodes, ``cells`` cells per axis (f
    padded with +inf past its end)."""
    padded = np.full(tuple(r * c for r, c in zip(refinement, cells)), np.inf)
    padded[tuple(slice(0, n) for n in f.shape)] = f
    split = padded.reshape(tuple(x for rc in zip(cells, refinement) for x in rc))
    return split.min(axis=tuple(range(1, 2 * f.ndim, 2)))


def window_cells(steps, refinement: tuple, halo: tuple, gamma: float):
    """Per cell of a window (cell k of axis a covers the window's nodes r k .. r k + r - 1, z =
    (node - halo) step): the least and the largest gamma |z|^2 / 2 over its nodes inside the
    window, and whether it lies wholly inside; each of shape (cells per axis ...)."""
    near, far, whole = [], [], []
    for step, r, h in zip(steps, refinement, halo):
        first = r * np.arange(-(-(2 * h + 1) // r))
        last = np.minimum(first + r - 1, 2 * h)
        lo, hi = (first - h) * step, (last - h) * step
        near.append(np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi))) ** 2)
        far.append(np.maximum(np.abs(lo), np.abs(hi)) ** 2)
        whole.append(first + r - 1 <= 2 * h)
    grid = lambda parts: np.meshgrid(*parts, indexing="ij")               # noqa: E731
    near = 0.5 * gamma * sum(grid(near))
    far = 0.5 * gamma * sum(grid(far))
    return near, far, np.logical_and.reduce(grid(whole))


def node_boxes(fine, f: np.ndarray, gamma: float, nodes: np.ndarray, shape: tuple):
    """For the x-nodes ``nodes`` (flat indices into the x-grid of ``shape``), the first and last
    window offsets (each (len(nodes), d)) of the box holding every window node whose exponent is
    within NEGLIGIBLE of the window's least (module docstring)."""
    d = len(shape)
    near, far, whole = window_cells(fine.steps, fine.refinement, fine.halo, gamma)
    cells = tuple(n + k - 1 for n, k in zip(shape, near.shape))
    windows = np.lib.stride_tricks.sliding_window_view(cell_minima(f, fine.refinement, cells), near.shape)
    index = np.array(np.unravel_index(nodes, shape)).T
    first, last = np.empty((len(nodes), d), int), np.empty((len(nodes), d), int)
    outside = ~whole
    batch = max(1, DIRECT_BYTES // (16 * near.size))                          # two (b, cells ...) arrays
    for start in range(0, len(nodes), batch):
        part = slice(start, start + batch)
        least = windows[tuple(index[part].T)]                                 # (b, cells ...)
        bound = np.add(least, far)
        bound[:, outside] = np.inf
        upper = np.min(bound.reshape(len(least), -1), axis=1)
        kept = np.add(least, near, out=bound) <= (upper + NEGLIGIBLE).reshape((-1,) + (1,) * d)
        for a in range(d):
            along = np.any(kept, axis=tuple(k for k in range(1, d + 1) if k != a + 1))
            first[part, a] = fine.refinement[a] * np.argmax(along, axis=1)
            last[part, a] = fine.refinement[a] * (along.shape[1] - 1 - np.argmax(along[:, ::-1], axis=1)) \
                + fine.refinement[a] - 1
    return first, np.minimum(last, 2 * np.array(fine.halo))


def direct_sums(fine, f: np.ndarray, factors: np.ndarray, nodes: np.ndarray, shape: tuple, gamma: float,
                barrier: np.ndarray):
    """The kernel factors' sums (module docstring) at the x-nodes ``nodes`` (flat indices into
    the x-grid of ``shape``; node j's window starts at y-node refinement j): yields (nodes of a
    batch, their sums (batch, K)), ``factors`` of shape (K, window ...), ``barrier`` the window's
    gamma |z|^2 / 2 (itself, not -log G: G underflows past 745, and a clipped exponent lets the
    far side of a wide window outweigh the node's own mass: gamma = 40, f = 20 |y|^2 at
    x = (10, 10) gave -353 against the exact -133)."""
    first, last = node_boxes(fine, f, gamma, nodes, shape)
    corner = np.array(np.unravel_index(nodes, shape)).T * np.array(fine.refinement)
    start = 0
    while start < len(nodes):
        count = BOX_BATCH       # fewer when the joined box's weights and factors would pass DIRECT_BYTES
        while True:
            part = slice(start, start + count)
            lo, hi = np.min(first[part], axis=0), np.max(last[part], axis=0)
            if count == 1 or 8 * (count + len(factors)) * np.prod(hi - lo + 1) <= DIRECT_BYTES:
                break
            count //= 2
        start += count
        box = tuple(slice(int(a), int(b) + 1) for a, b in zip(lo, hi))
        boxes = np.lib.stride_tricks.sliding_window_view(f, tuple(int(n) for n in hi - lo + 1))
        exponent = (boxes[tuple((corner[part] + lo).T)] + barrier[box]).reshape(len(corner[part]), -1)
        exponent -= np.min(exponent, axis=1, keepdims=True)
        yield nodes[part], np.exp(-exponent, out=exponent) @ factors[(slice(None),) + box].reshape(len(factors), -1).T
