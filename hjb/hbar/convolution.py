"""The averaged velocities of deep relaxation on a whole x-grid at once, as correlations.

For the deep-relaxation model (SPEC section 1) mu_x(dy) = E(y) G(y - x) dy / Z(x) with
E = exp(-f) and G(z) = exp(-gamma |z|^2 / 2), and phi(x, y, u) = u gamma (y - x).  Every
average the velocity table needs is therefore a correlation of E with a fixed kernel:

    Z(x)   = integral of E(x + z) G(z) dz,
    M(x)   = integral of E(x + z) G(z) z dz / Z(x)                       = m(x) - x,
    H_t(x) = integral over z . theta_t < 0 of E(x + z) G(z) z dz / Z(x),

and the velocities are u gamma M for a constant control u, and u_min gamma M +
(u_max - u_min) gamma H_t for the bang-bang control of direction theta_t (it takes u_max
where the payoff -phi . theta is larger, on the half-space (y - x) . theta < 0).

Discretisation: y on the x-grid refined ``refinement`` times and widened by the kernel's reach
(:func:`kernel_reach`, the widest Gibbs window).
The integrand is smooth and decays like G, so the trapezoid rule is spectrally accurate on
whole lines; the half-space is cut along the axis a where |theta_a| is largest: for each line
of the other coordinates z', the integral over z_a < s(z') = -theta' . z' / theta_a is taken
with weights exact for quintics (trapezoid with its Euler-Maclaurin end corrections up to the
node below s, a quintic through the six nearest nodes over the last part cell): sixth order
in the y-step, with no tie on the switching hyperplane.  One forward FFT of E, and per kernel
one forward FFT, a product and an inverse FFT, give every x-node's averages; directions come
in pairs (H_{-theta} = M - H_theta, exactly, the weights being complementary).

FFT round-off is absolute, about eps |E|_max times the kernel's mass: at a node where Z(x) is
not far above that (the loss there well above its minimum over the box) the same sums are
taken directly over the node's window, with its own shift of the exponent, so every node
gets the same rule to its full accuracy (:mod:`hjb.hbar.direct_sums`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, check_finite
from ..grid import Grid
from ..model import DeepRelaxation
from .direct_sums import DIRECT_BYTES, direct_sums

#: The y-step is at most this fraction of the model's length scale (sets the accuracy).
Y_FRACTION = 0.125
#: A node is summed directly when the FFT round-off bound exceeds this fraction of Z(x) (the
#: round-off measured is at most 0.15 of the bound: the averages then keep about 1e-7).
ROUNDOFF_TOLERANCE = 1e-6
#: Seconds per element and log2 of the length of a real FFT (1 s for the 71 FFTs of 972^2 at
#: 201^2 in d = 2 on the 2-core machine of scripts/bench_effective.py).
FFT_SECONDS = 7.5e-10
#: A node may be summed directly when the loss there exceeds its least value on the x-grid by
#: more than this: log(ROUNDOFF_TOLERANCE / (eps log2 of a long FFT)) ~ 19, less a margin for
#: a narrow well (Z below its Gaussian mass) and for the least value off the grid.
DIRECT_EXCESS = 14.0


@dataclass(frozen=True)
class FineGrid:
    """The y-grid of the correlations: the x-grid refined ``refinement`` times per axis and
    widened by ``halo`` y-nodes a side (the kernel's half-width), so that the x-nodes are the
    y-nodes ``halo + refinement k``."""

    lower: np.ndarray
    steps: np.ndarray
    refinement: tuple
    halo: tuple
    shape: tuple

    @classmethod
    def around(cls, model: DeepRelaxation, grid: Grid, refinement=None, nodes=None) -> "FineGrid":
        """The y-grid for ``grid``, its halo the widest Gibbs window (:func:`kernel_reach`) at the
        grid's nodes (or at ``nodes``, a sample of them, for an estimate made before the grid is
        allocated)."""
        nodes = grid.nodes().reshape(-1, grid.dim) if nodes is None else nodes
        reach = kernel_reach(model, nodes, reach_probes(grid))
        if not np.isfinite(reach):
            raise InputError("model.loss", "the loss is not finite at any node of the x-grid, nor at any probe")
        if refinement is None:
            refinement = np.ceil(grid.spacings / (Y_FRACTION * model.length_scale)).astype(int)
        refinement = np.broadcast_to(np.asarray(refinement, int), (grid.dim,))
        steps = grid.spacings / refinement
        halo = np.ceil(reach / steps).astype(int) + 3        # + 3: the quintic's nodes past the cut
        shape = tuple((np.array(grid.shape) - 1) * refinement + 1 + 2 * halo)
        return cls(grid.lower - halo * steps, steps, tuple(int(r) for r in refinement),
                   tuple(int(k) for k in halo), shape)

    def axis(self, k: int) -> np.ndarray:
        return self.lower[k] + self.steps[k] * np.arange(self.shape[k])

    def offsets(self, k: int) -> np.ndarray:
        """The kernel's offsets z along axis k: -halo .. halo y-steps."""
        return self.steps[k] * np.arange(-self.halo[k], self.halo[k] + 1)

    def offset_mesh(self) -> list:
        """The kernel's offsets z, one array of shape (2 halo + 1, ...) per axis."""
        return np.meshgrid(*[self.offsets(k) for k in range(len(self.shape))], indexing="ij")

    @property
    def padded(self) -> tuple:
        """The FFTs' length per axis (at least the fine grid's: the x-nodes' sums never wrap)."""
        from scipy import fft
        return tuple(fft.next_fast_len(int(n), real=True) for n in self.shape)

    def peak_bytes(self, nodes: int, directions: int, direct: bool = True) -> float:
        """Bytes at the peak of :func:`correlation_averages`: the loss on the fine grid and the
        density (three arrays of the fine grid; a slab of LOSS_NODES y-nodes and the loss's
        temporaries on them), the FFTs (four arrays of the padded length: the
        spectrum of E, a kernel's, their product, the inverse), the averages per x-node, and
        with ``direct`` (a node may be summed directly) the kernels' factors, the loss padded to
        whole cells (:mod:`hjb.hbar.direct_sums`) and a batch's bounds or boxes; at least
        kernel_reach's differences, which come and go before."""
        d = len(self.shape)
        kernels = kernel_count(d, -(-directions // 2)) * np.prod([2 * h + 1 for h in self.halo])
        arrays = 3 * np.prod(self.shape) + (2 * d + 2) * min(LOSS_NODES, np.prod(self.shape)) \
            + 4 * np.prod(self.padded) + nodes * (1 + d + directions * d)
        return 8.0 * max(arrays, 4 * REACH_ELEMENTS) \
            + ((8.0 * (kernels + np.prod(self.shape)) + 2 * DIRECT_BYTES) if direct else 0.0)

    def fft_seconds(self, directions: int) -> float:
        """The correlations' FFTs, timed: one of E, then a forward and an inverse one per kernel,
        FFT_SECONDS per element and log2 of the padded length."""
        padded = float(np.prod(self.padded))
        return FFT_SECONDS * (1 + 2 * kernel_count(len(self.shape), -(-directions // 2))) * padded * np.log2(padded)


def kernel_reach(model: DeepRelaxation, x: np.ndarray, probes: np.ndarray) -> float:
    """The kernel's half-width: the largest Gibbs radius (DeepRelaxation.gibbs_radius) over the
    points ``x`` (m, d), each with W the least of f(y) + gamma/2 |y - x|^2 over y = x and the
    ``probes`` (p, d), an upper bound of its minimum.  W = f(x) alone (the Gibbs window of the
    point-by-point rule) is far too wide where the loss is steep: for the quadratic a = 40 on
    [-5, 5]^2, gamma = 5, the corner's radius is 20.4 with f(x), 7.8 with the probes.  The
    points are taken by decreasing f(x), and stop once f(x) is below the largest W found
    (W <= f(x) could not raise it): for a gentle loss only the first batch is probed."""
    f_x = np.asarray(model.loss.value(x), float)
    f = np.asarray(model.loss.value(probes), float)
    key = np.where(np.isnan(f_x), np.inf, f_x)                  # a NaN f(x) bounds nothing: probe it
    order = np.argsort(-key, kind="stable")
    rows = max(1, REACH_ELEMENTS // (len(probes) * x.shape[1]))
    largest = -np.inf
    with np.errstate(invalid="ignore"):          # inf - inf: a probe of zero density
        for start in range(0, len(x), rows):
            part = order[start:start + rows]
            if key[part[0]] <= largest:
                break
            distance = np.sum((x[part, None, :] - probes[None, :, :]) ** 2, axis=-1)
            # fmin: a NaN bounds nothing (a NaN loss is reported when the loss is taken on the fine grid)
            bound = np.fmin.reduce(f[None, :] + 0.5 * model.gamma * distance, axis=1, initial=np.inf)
            largest = max(largest, float(np.fmax.reduce(np.fmin(f_x[part], bound))))
    return float(model.gibbs_radius(largest))


#: Elements of the (points, probes, d) differences of kernel_reach held at once (about four
#: such arrays live at a time: 8 MiB).
REACH_ELEMENTS = 2**18
#: Probes of kernel_reach: a sample of the grid of at most this many nodes.
PROBES = 289


def reach_probes(grid: Grid) -> np.ndarray:
    """kernel_reach's probes: at most PROBES nodes of a sample of the grid (17 per axis in d = 2)."""
    return grid.sample(max(2, int(round(PROBES ** (1.0 / grid.dim), 9))))


def fine_loss(model: DeepRelaxation, fine: FineGrid) -> np.ndarray:
    """f on the fine grid, in slabs of at most LOSS_NODES nodes along the first axis (a loss may
    hold several temporaries a node: the rugged one (node, d, mode) arrays, 2.4x the estimate
    when it took the whole grid at once)."""
    f = np.empty(fine.shape)
    rest = [fine.axis(k) for k in range(1, len(fine.shape))]
    rows = max(1, LOSS_NODES // int(np.prod(fine.shape[1:], dtype=np.int64)))
    first = fine.axis(0)
    for start in range(0, fine.shape[0], rows):
        mesh = np.meshgrid(first[start:start + rows], *rest, indexing="ij")
        f[start:start + rows] = model.loss.value(np.stack(mesh, axis=-1))
    return f


#: Nodes of the fine grid at which the loss is evaluated at once.
LOSS_NODES = 2**17


def kernel_count(d: int, directions: int) -> int:
    """Kernels for ``directions`` half-spaces (opposite ones come free): G, G z_c, G z_c cut."""
    return 1 + d + directions * d


def half_line_weights(s: np.ndarray, step: float, halo: int) -> np.ndarray:
    """Weights w (len(s), 2 halo + 1) on the nodes z_i = i step, |i| <= halo, with
    sum_i w_i c(z_i) = integral from -infinity to s of c, to O(step^6) for a smooth c that is
    negligible at the window's ends.  Trapezoid up to the node z_J <= s with its Euler-Maclaurin
    end corrections, -step^2/12 c'(z_J) + step^4/720 c'''(z_J) (the derivatives by central
    differences on z_{J-2} .. z_{J+2}), plus the integral over [z_J, s] of the quintic through
    z_{J-2} .. z_{J+3}.  s is clamped to [z_{2-halo}, z_{halo-3}]."""
    s = np.asarray(s, float).ravel()
    where = np.clip(s / step, 2 - halo, halo - 3 - 1e-12)
    J = np.floor(where).astype(int)
    t = where - J
    index = np.arange(-halo, halo + 1)
    w = step * (index[None, :] < J[:, None]) + 0.5 * step * (index[None, :] == J[:, None])
    # the integrals over [0, t] of the Lagrange quintics L_k(tau) = sum_p basis[k, p] tau^p
    powers = np.arange(len(CUT_NODES))
    basis = np.linalg.inv(np.vander(CUT_NODES, len(CUT_NODES), increasing=True)).T
    part = (t[:, None] ** (powers + 1) / (powers + 1)) @ basis.T
    rows = np.arange(len(s))[:, None]
    np.add.at(w, (rows, J[:, None] + halo + CUT_NODES[None, :]), step * (part + END_CORRECTION[None, :]))
    return w


#: The nodes (offsets from J) of the last part cell's quintic.
CUT_NODES = np.arange(-2, 4)
#: The end corrections on those nodes, in units of the step: -(1/12) c' + (1/720) c''' at z_J
#: with c' = (c_{-2} - 8 c_{-1} + 8 c_1 - c_2) / 12 and c''' = (-c_{-2} + 2 c_{-1} - 2 c_1 + c_2) / 2.
END_CORRECTION = np.array([-11.0, 82.0, 0.0, -82.0, 11.0, 0.0]) / 1440.0


def kernel_factors(fine: FineGrid, thetas: np.ndarray):
    """The correlation kernels without their Gaussian, each of shape (2 halo + 1, ...): first
    the whole-space ones (the trapezoid weights w, then w z_c for each component c), then
    for each direction theta (theta_a > 0 on its largest axis a) the half-space ones w z_c
    with the half-line weights of z_a < s(z') along a.  A kernel is G times its factor."""
    d = len(fine.shape)
    z = fine.offset_mesh()
    whole = np.full(z[0].shape, float(np.prod(fine.steps)))
    yield whole
    for zc in z:
        yield whole * zc
    for theta in thetas:
        a = int(np.argmax(np.abs(theta)))
        across = sum(theta[k] * z[k] for k in range(d) if k != a)
        s = -np.take(np.asarray(across, float) * np.ones(whole.shape), fine.halo[a], axis=a) / theta[a]
        weights = half_line_weights(s, fine.steps[a], fine.halo[a])
        weights = np.moveaxis(weights.reshape(s.shape + (-1,)), -1, a) / fine.steps[a]
        for zc in z:
            yield whole * weights * zc


def correlation_averages(model: DeepRelaxation, grid: Grid, thetas: np.ndarray, refinement=None):
    """Z (n,), M (n, d) and H (n, t, d) of the module docstring at the n x-nodes (flattened in
    C order; Z up to a factor per node), for the directions ``thetas`` each with its largest
    component positive, and the mask of the nodes summed directly (their FFT round-off bound
    above ROUNDOFF_TOLERANCE Z)."""
    from scipy import fft
    fine = FineGrid.around(model, grid, refinement)
    d = grid.dim
    f = fine_loss(model, fine)
    # +inf is a zero density; NaN or -inf is a broken loss
    check_finite(np.where(f == np.inf, 0.0, f), "velocity table: the loss on the y-box around the x-grid", None,
                 {f"y{k + 1}" if d > 1 else "y": fine.axis(k) for k in range(d)})
    barrier = 0.5 * model.gamma * sum(zk * zk for zk in fine.offset_mesh())     # gamma |z|^2 / 2
    gauss = np.exp(-barrier)
    length = fine.padded
    spectrum = fft.rfftn(np.exp(-(f - np.min(f))), length, workers=-1)
    take = tuple(slice(2 * k, 2 * k + (n - 1) * r + 1, r) for k, r, n in zip(fine.halo, fine.refinement, grid.shape))
    out, direct, factors = [], None, None
    for k, factor in enumerate(kernel_factors(fine, thetas)):
        kernel = gauss * factor
        product = fft.rfftn(kernel[(slice(None, None, -1),) * d], length, workers=-1)
        product *= spectrum
        out.append(fft.irfftn(product, length, workers=-1)[take].ravel())
        if k == 0:                         # the first kernel is G: Z, and the round-off bound
            bound = np.finfo(float).eps * np.log2(np.prod(length)) * float(np.sum(kernel))
            direct = bound > ROUNDOFF_TOLERANCE * out[0]
            if direct.any():
                factors = np.empty((kernel_count(d, len(thetas)), factor.size))
        if factors is not None:
            factors[k] = factor.ravel()
    if factors is not None:
        nodes = np.flatnonzero(direct)
        for some, sums in direct_sums(fine, f, factors.reshape((-1,) + gauss.shape), nodes, grid.shape, model.gamma,
                                      barrier):
            for k, column in enumerate(sums.T):
                out[k][some] = column
    Z = out[0]
    M = np.stack(out[1:1 + d], axis=-1) / Z[:, None]
    H = np.stack(out[1 + d:], axis=-1).reshape(len(Z), len(thetas), d) / Z[:, None, None] if len(thetas) \
        else np.zeros((len(Z), 0, d))
    return Z, M, H, direct


def convolution_velocities(model: DeepRelaxation, grid: Grid, thetas: np.ndarray, refinement=None):
    """The velocity table of :func:`hjb.hbar.velocities.averaged_velocities` at every node of
    the grid (shape (n, m, d), nodes in C order: the constant controls, then the bang-bang
    control of each direction in ``thetas``), and the mask of the nodes summed directly."""
    if len(thetas):
        sign = np.sign(thetas[np.arange(len(thetas)), np.argmax(np.abs(thetas), axis=1)])
        canonical, which = np.unique(np.round(thetas * sign[:, None], 14), axis=0, return_inverse=True)
    else:
        sign, canonical, which = np.zeros(0), thetas, np.zeros(0, int)
    _, M, H, direct = correlation_averages(model, grid, canonical, refinement)
    # the half-space z . theta < 0 for theta_a < 0 is the complement of that of -theta
    H = np.where(sign[None, :, None] > 0, H[:, which.ravel()], M[:, None, :] - H[:, which.ravel()])
    u = model.control_values
    constant = model.gamma * u[None, :, None] * M[:, None, :]
    bang_bang = model.gamma * (u[0] * M[:, None, :] + (u[-1] - u[0]) * H)
    return np.concatenate([constant, bang_bang], axis=1), direct
