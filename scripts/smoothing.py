"""The smoothing picture of deep relaxation: minima of a rugged landscape widen as t grows.

For the rugged 1-D loss (parabola + sine + smoothed noise, fixed seed) this
computes u(., t) of the viscous HJ equation (Cole-Hopf, exact; the monotone
scheme's sup difference on the inner half is reported beside it) and of the
inviscid one (Hopf-Lax, exact Moreau envelope), and measures on [-2.5, 2.5]:

* the semiconcavity constant  max D^2 u  (Hopf-Lax: at most 1/t),
* the number of local minima,
* the basin width: distance between the local maxima enclosing the global
  minimum (the basin of attraction of gradient descent on u),
* the flat width: length of the component of {u <= min u + 0.05} holding it.

    python scripts/smoothing.py [--quick] [--out results/smoothing]
"""
from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import hjb
from hjb.entropy import cole_hopf_whole_space
from hjb.hopf_lax import moreau_envelope
from hjb.tables import Table
from hjb.viscous import solve_viscous_hj

WINDOW = 2.5
FLAT = 0.05


def measures(x, u):
    """Semiconcavity constant, number of local minima, basin width, flat width on |x| <= WINDOW."""
    h = x[1] - x[0]
    inner = np.abs(x) <= WINDOW
    xi, ui = x[inner], u[inner]
    semiconcavity = float(np.max(np.diff(ui, 2)) / h**2)
    is_min = (ui[1:-1] < ui[:-2]) & (ui[1:-1] <= ui[2:])
    is_max = (ui[1:-1] > ui[:-2]) & (ui[1:-1] >= ui[2:])
    i = int(np.argmin(ui))
    maxima = xi[1:-1][is_max]
    left = maxima[maxima < xi[i]]
    right = maxima[maxima > xi[i]]
    basin = (right.min() if len(right) else xi[-1]) - (left.max() if len(left) else xi[0])
    low = ui <= ui[i] + FLAT
    lo = i
    while lo > 0 and low[lo - 1]:
        lo -= 1
    hi = i
    while hi < len(ui) - 1 and low[hi + 1]:
        hi += 1
    return semiconcavity, int(is_min.sum()), float(basin), float(xi[hi] - xi[lo])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarser grid, fewer times")
    parser.add_argument("--beta", type=float, default=5.0, help="inverse temperature of the viscous equation")
    parser.add_argument("--out", default="results/smoothing", help="folder for the table (.tex, .csv) and figure")
    args = parser.parse_args()
    loss = hjb.make_loss("rugged", 1)
    grid = hjb.Grid.box(-3, 3, 601 if args.quick else 1201)
    x = grid.axes[0].nodes
    times = [0.0, 0.05, 0.2, 1.0] if args.quick else [0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    table = Table(["t", "equation", "max D2u", "1/t", "local minima", "basin width", "flat width",
                   "scheme - exact (inner half)"],
                  caption=f"Rugged loss: minima widen under the viscous (beta = {args.beta:g}) and inviscid "
                          f"HJ flows (measured on |x| <= {WINDOW})")
    curves = {}
    inner = np.abs(x) <= 1.5
    for t in times:
        viscous = cole_hopf_whole_space(loss, args.beta, grid, t)
        scheme = solve_viscous_hj(loss, grid, t, args.beta).value
        inviscid = moreau_envelope(loss, x, t).value
        godunov = solve_viscous_hj(loss, grid, t).value
        for name, u, num in ((f"viscous beta={args.beta:g}", viscous, scheme), ("Hopf-Lax", inviscid, godunov)):
            table.add(t, name, *measures(x, u)[:1], (1 / t if t > 0 else np.inf), *measures(x, u)[1:],
                      float(np.max(np.abs(num - u)[inner])))
            curves[(name, t)] = u
    print(table.emit(os.path.join(args.out, "smoothing")))

    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    for k, name in enumerate((f"viscous beta={args.beta:g}", "Hopf-Lax")):
        ax = fig.add_subplot(1, 2, k + 1)
        for t in times:
            ax.plot(x, curves[(name, t)], lw=1.2 if t else 0.8, label=f"t = {t:g}")
        ax.set_title(f"{name}: u(x, t)")
        ax.set_xlabel("x")
        ax.set_xlim(-3, 3)
        ax.legend(fontsize=8)
    fig.axes[0].set_ylabel("u")
    fig.tight_layout()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "smoothing.png")
    fd, tmp = tempfile.mkstemp(dir=args.out, prefix=".smoothing.", suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=120, format="png")
    os.replace(tmp, path)
    print(f"\nfigure: {path}")


if __name__ == "__main__":
    main()
