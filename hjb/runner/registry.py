"""The kinds of run, listed explicitly: kind name -> :class:`hjb.runner.kind.KindSpec`.

Adding a kind means a solver module, a module under :mod:`hjb.runner.kinds` that
defines its ``SPECS``, a case file, and one entry in :data:`KIND_MODULES` below.
"""
from __future__ import annotations

from ..errors import InputError, did_you_mean
from .kind import KindSpec
from .kinds import cell, effective, eps_hjb, exit_time, fokker_planck, hbar, hopf_lax, sde, sgd, viscous_hj

#: Every kind module, in the order ``hjb list`` documents them.
KIND_MODULES = (eps_hjb, effective, hbar, cell, viscous_hj, hopf_lax, sde, sgd, exit_time, fokker_planck)

KINDS: dict = {spec.name: spec for module in KIND_MODULES for spec in module.SPECS}


def kind_spec(kind: str) -> KindSpec:
    """The spec of ``kind``, or an InputError naming the key ``kind`` with the choices."""
    if kind not in KINDS:
        raise InputError("kind", f"unknown kind '{kind}'{did_you_mean(str(kind), KINDS)}; "
                         f"available: {', '.join(sorted(KINDS))}")
    return KINDS[kind]
