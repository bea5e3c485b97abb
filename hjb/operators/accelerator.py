"""numba, the optional accelerator (``pip install hjb[fast]``): whether it is there, whether a
solve repays it, and how a kernel is compiled.

Every compiled kernel in hjb has a numpy twin that computes the same numbers bit for bit
(the same operations in the same order, each rounded: numba, without ``fastmath``, does not
contract a product and a sum into a fused multiply-add); the tests compare them.  Without
numba (or with ``HJB_NUMBA=0``) the twins run, except for the batched LU of the d = 2
y-blocks (:mod:`hjb.operators.batched_lu`), whose twin is too slow to use: SuperLU block by
block runs instead, the same numbers up to rounding (7e-15 apart on a d = 2 solve).
"""
from __future__ import annotations

import os

from ..signals import uninterrupted

#: The compiled tridiagonal solve only from this many row-solves ahead (rows times solves):
#: importing numba and loading the cached kernels takes about 0.55 s and 110 MiB (1.5-3 s the
#: first time, when numba compiles them), and the kernel saves about 10 ns a row and solve.
ACCELERATE_ROW_SOLVES = 3e7


def numba_or_none():
    """The numba module, or None when it is not installed or ``HJB_NUMBA`` is ``0``."""
    if os.environ.get("HJB_NUMBA", "1") == "0":
        return None
    try:
        with uninterrupted():           # an interrupt must not leave numba half imported
            import numba
    except ImportError:
        return None
    return numba


def compile_kernel(numba, function, parallel: bool = False) -> "UninterruptedKernel":
    """``function`` compiled in nopython mode (``parallel``: its ``prange`` loops in threads),
    cached on disk beside its module or in the user's cache; where neither can be written
    (numba raises at decoration), compiled afresh in each process.  Its calls run
    uninterrupted (:class:`UninterruptedKernel`)."""
    try:
        return UninterruptedKernel(numba.njit(cache=True, nogil=True, parallel=parallel)(function))
    except RuntimeError:
        return UninterruptedKernel(numba.njit(nogil=True, parallel=parallel)(function))


class UninterruptedKernel:
    """A numba kernel whose calls defer SIGINT and SIGTERM to their end (:mod:`hjb.signals`).
    numba compiles, or loads from its cache, at the first call with new argument types; an
    interrupt raised inside its compiler leaves the compiled library half built (it then fails
    with "no compiled object yet", a traceback and exit 1, or the process dies of the signal),
    where the run must end with 130 and nothing written.  A kernel holds no Python frame while
    it runs, so deferring costs nothing: the interrupt is honoured when it returns, as before.
    About 5 us a call."""

    def __init__(self, dispatcher):
        self.dispatcher = dispatcher

    def __call__(self, *args):
        with uninterrupted():
            return self.dispatcher(*args)
