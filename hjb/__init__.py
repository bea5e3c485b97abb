"""hjb: monotone finite-difference solvers for the PDEs of deep relaxation.

The stable interface is SPEC section 10.  ``import hjb`` is cheap: each public
name below is imported from its module the first time it is used (PEP 562),
so ``hjb list`` and ``hjb show`` never load the solvers, and nothing imports
matplotlib, dask or scipy.signal until a picture, a Dask sweep or an FFT needs it.

Where things live (one concept per module)::

    hjb.model, hjb.losses, hjb.grid, hjb.points, hjb.errors, hjb.limits, hjb.entropy
    hjb.extrapolation  Richardson extrapolation in h (post-processing, with an error estimate)
    hjb.operators   monotone building blocks: generator, transport, ball, multigrid, quadrature
    hjb.solvers     one module per PDE, each with its named step, and the shared march loop
    hjb.hbar        effective_hamiltonian and its methods (one explicit registry)
    hjb.stochastic  Euler-Maruyama paths, the feedback of a value, SGD
    hjb.reference   exact and semi-analytic answers (SPEC section 9)
    hjb.runner      case files, schema, the registry of kinds, sweeps, the runner
    hjb.output      Result, HDF5 files, plots, summaries, tables
"""
from __future__ import annotations

import importlib

from .version import __version__

#: public name -> module that defines it
_EXPORTS = {
    "Case": "hjb.runner.case", "load_case": "hjb.runner.case",
    "run": "hjb.runner.run", "KINDS": "hjb.runner.registry",
    "save": "hjb.output.hdf5", "load": "hjb.output.hdf5", "Result": "hjb.output.result",
    "InputError": "hjb.errors", "NonFiniteError": "hjb.errors",
    "Loss": "hjb.losses.base", "make_loss": "hjb.losses",
    "TwoScaleModel": "hjb.model", "DeepRelaxation": "hjb.model", "AssumptionWarning": "hjb.model",
    "Grid": "hjb.grid",
    "effective_hamiltonian": "hjb.hbar.methods", "averaged_velocities": "hjb.hbar.velocities",
    "solve_eps_hjb": "hjb.solvers.eps_hjb", "solve_effective": "hjb.solvers.effective",
    "solve_egd": "hjb.solvers.effective", "solve_truncated_cell": "hjb.solvers.cell",
    "solve_viscous_hj": "hjb.solvers.viscous", "moreau_envelope": "hjb.solvers.hopf_lax",
    "reachable_interval": "hjb.reference.reachable", "reachable_value": "hjb.reference.reachable",
    "cole_hopf": "hjb.entropy", "local_entropy": "hjb.entropy",
    "solve_fokker_planck": "hjb.solvers.fokker_planck", "mean_exit_time": "hjb.solvers.exit_time",
    "simulate_sgd": "hjb.stochastic.sgd",
    "richardson": "hjb.extrapolation",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hjb' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value            # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
