"""The direct sums of the velocity correlations (hjb/hbar/direct_sums.py): the boxes found from
per-cell bounds hold every window node that matters, and are small where the loss is steep."""
import warnings

import numpy as np

import hjb
from hjb.hbar.convolution import FineGrid, convolution_velocities
from hjb.hbar.direct_sums import cell_minima, node_boxes
from hjb.model import NEGLIGIBLE
from hjb.reference.quadratic import gibbs_mean


def steep(a=40.0, n=9):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hjb.AssumptionWarning)
        model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=a, c=[0.3, -0.2]), gamma=5.0)
    grid = hjb.Grid.box([-5.0, -4.0], [5.0, 4.0], [n, n + 2])
    fine = FineGrid.around(model, grid)
    f = model.loss.value(np.stack(np.meshgrid(*[fine.axis(k) for k in range(2)], indexing="ij"), axis=-1))
    return model, grid, fine, f


def test_cell_minima_are_the_least_loss_of_each_cell():
    f = np.random.default_rng(3).normal(size=(11, 7))
    least = cell_minima(f, (3, 2), (4, 4))
    for i in range(4):
        for j in range(4):
            block = f[3 * i:3 * i + 3, 2 * j:2 * j + 2]
            assert least[i, j] == (np.min(block) if block.size else np.inf)


def test_every_node_that_matters_lies_in_its_box_and_the_boxes_are_small():
    """For every x-node: each window node whose exponent f(x + z) + gamma |z|^2 / 2 is within
    NEGLIGIBLE of the window's least lies in the node's box (brute force over the window), and
    for the quadratic a = 40 the boxes average under a tenth of the window."""
    model, grid, fine, f = steep()
    nodes = np.arange(grid.size)
    first, last = node_boxes(fine, f, model.gamma, nodes, grid.shape)
    z = fine.offset_mesh()
    barrier = 0.5 * model.gamma * sum(zk * zk for zk in z)
    window = tuple(2 * h + 1 for h in fine.halo)
    for node, lo, hi in zip(nodes, first, last):
        start = tuple(r * j for r, j in zip(fine.refinement, np.unravel_index(node, grid.shape)))
        exponent = f[tuple(slice(s, s + w) for s, w in zip(start, window))] + barrier
        held = np.argwhere(exponent < np.min(exponent) + NEGLIGIBLE)
        assert np.all(held >= lo) and np.all(held <= hi)
    assert np.mean(np.prod(last - first + 1, axis=1)) < 0.1 * np.prod(window)


def test_the_gaussian_is_not_clipped_where_it_underflows():
    """gamma = 40, f = 20 |y|^2 on [-10, 10]^2: at the corner the window reaches where
    gamma |z|^2 / 2 > 745 (G underflows); a weight clipped there let the window's far side
    outweigh the node's mass (the mean velocity came out -353 against the exact -133 a component)."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=20.0, c=[0.0, 0.0]), gamma=40.0)
    grid = hjb.Grid.box([-10.0, -10.0], [10.0, 10.0], [5, 5])
    x = grid.nodes().reshape(-1, 2)
    table, direct = convolution_velocities(model, grid, np.zeros((0, 2)))
    mean = model.gamma * (gibbs_mean(20.0, np.zeros(2), model.gamma, x) - x)
    assert direct[-1]
    np.testing.assert_allclose(table[:, 1], mean, rtol=1e-9, atol=1e-9)
