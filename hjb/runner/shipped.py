"""The shipped cases: the package data ``hjb.cases`` (the repository's ``cases/`` folder),
and how ``hjb run NAME`` and ``hjb list`` find them."""
from __future__ import annotations

import difflib
import glob
import os

from ..errors import InputError


def shipped_folder() -> str:
    """The folder of the shipped cases.

    They are the package data ``hjb.cases`` (the repository's ``cases/`` folder,
    mapped into the package by pyproject.toml), found with importlib.resources in
    a normal and an editable install alike; a source tree used without installing
    falls back to the ``cases/`` folder beside the package.
    """
    try:
        from importlib.resources import files
        folder = os.fspath(files("hjb.cases"))
    except (ModuleNotFoundError, TypeError):  # not installed, or not a folder on disk
        folder = ""
    if not os.path.isdir(folder):
        folder = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "cases")
    return folder


def shipped_cases() -> dict:
    """Shipped case name (the file name without ``.toml``) -> path of the file, in name order."""
    paths = sorted(glob.glob(os.path.join(shipped_folder(), "*.toml")))
    return {os.path.basename(path)[:-len(".toml")]: path for path in paths}


def cases_folder(explicit=None) -> str:
    """The folder ``hjb list`` reads: ``--cases`` if given, else the shipped cases."""
    return explicit or shipped_folder()


def case_file(case: str) -> str:
    """The file ``hjb run CASE`` reads: a path that exists wins; otherwise the shipped
    case of that name (``quadratic_value`` or ``quadratic_value.toml``); otherwise an
    InputError ``CASE: case file not found`` naming close shipped cases."""
    if os.path.exists(case):
        return case
    shipped = shipped_cases()
    stem = case[:-len(".toml")] if case.endswith(".toml") else case
    if stem in shipped:                     # a bare name: a path with a folder never matches
        return shipped[stem]
    close = difflib.get_close_matches(os.path.basename(stem), list(shipped), n=3, cutoff=0.6)
    hint = ""
    if close:
        quoted = [f"'{name}'" for name in close]
        hint = (f" (did you mean the shipped case {quoted[0]}?)" if len(quoted) == 1 else
                f" (did you mean one of the shipped cases {', '.join(quoted)}?)")
    raise InputError(case, f"case file not found{hint}")
