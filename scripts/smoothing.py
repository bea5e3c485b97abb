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

import os

import numpy as np

import hjb
from hjb.entropy import cole_hopf_whole_space
from hjb.solvers.hopf_lax import moreau_envelope
from hjb.landscape import minima_measures
from hjb.output.figures import curve_panels, write_figure
from hjb.output.tables import Table, script_parser
from hjb.solvers.viscous import solve_viscous_hj

WINDOW = 2.5
FLAT = 0.05


def measures(x, u):
    """The measures of :func:`hjb.landscape.minima_measures` on |x| <= WINDOW, as a tuple."""
    m = minima_measures(x, u, window=WINDOW, flat=FLAT)
    return m["semiconcavity"], m["minima"], m["basin_width"], m["flat_width"]


def main(argv=None):
    parser = script_parser(__doc__, out="results/smoothing")
    parser.add_argument("--beta", type=float, default=5.0, help="inverse temperature of the viscous equation")
    args = parser.parse_args(argv)
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

    names = (f"viscous beta={args.beta:g}", "Hopf-Lax")
    fig = curve_panels(x, {f"{name}: u(x, t)": {f"t = {t:g}": curves[(name, t)] for t in times} for name in names},
                       "x", "u", "smoothing of the rugged loss", xlim=(-3, 3))
    path = write_figure(fig, os.path.join(args.out, "smoothing.png"))
    print(f"\nfigure: {path}")


if __name__ == "__main__":
    main()
