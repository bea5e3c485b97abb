"""hjb: monotone finite-difference solvers for the PDEs of deep relaxation.

See SPEC section 10 for the stable interface.
"""
__version__ = "0.1.0"

from .case import Case, load_case
from .effective import solve_effective, solve_egd
from .eps_hjb import solve_eps_hjb
from .errors import InputError
from .grid import Grid
from .hamiltonian import averaged_velocities, effective_hamiltonian
from .io import load, save
from .kinds import KINDS, run
from .losses import Loss, make_loss
from .model import AssumptionWarning, DeepRelaxation, TwoScaleModel
from .reachable import reachable_interval, reachable_value
from .result import Result

# Modules that register further kinds of run or H-bar methods (imported for that
# side effect as well as for their names).  One line per module.
from .cell import solve_truncated_cell
from .entropy import cole_hopf, local_entropy
from . import kinds_core, kinds_cell, kinds_entropy, kinds_sde  # noqa: F401,E402  (register the kinds)

__all__ = [
    "Case", "load_case", "run", "save", "load", "KINDS", "Result", "InputError",
    "Loss", "make_loss", "TwoScaleModel", "DeepRelaxation", "AssumptionWarning", "Grid",
    "effective_hamiltonian", "averaged_velocities", "solve_eps_hjb", "solve_effective",
    "solve_egd", "reachable_interval", "reachable_value",
    "solve_truncated_cell", "cole_hopf", "local_entropy",
]
