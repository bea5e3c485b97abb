"""Case files: TOML read, overridden by dotted paths, checked against a schema.

Case files are data: nothing in them is evaluated, except that a loss named
``"package.module:function"`` is imported.  Every mistake raises
:class:`hjb.errors.InputError` naming the dotted key.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib
import tomli_w

from ..errors import InputError, did_you_mean


@dataclass
class Case:
    """A parsed case file: its data (overrides applied) and where it came from.

    Made by :func:`hjb.load_case`; run by :func:`hjb.run`.  Not validated until
    it runs (the schema of its kind is checked then, with every error naming
    its dotted key).  ``case[key]`` is ``case.data[key]``.

    Parameters
    ----------
    data : dict
        The TOML tables: ``kind``, ``title``, ``[model]``, ``[grid]``,
        ``[solve]``, ``[output]``, ``[ci]`` (SPEC section 10).
    source : str, default "<case>"
        The file it was read from.

    Attributes
    ----------
    kind : str
        ``data["kind"]`` ("" when missing).
    text : str
        The data as TOML text (what a result file stores as its ``case``).

    Example
    -------
    >>> import hjb
    >>> from hjb.runner.case import case_from_dict
    >>> case = case_from_dict({"kind": "hbar", "model": {"gamma": 2.0, "loss": {"name": "quadratic"}},
    ...                        "solve": {"x": [0.0], "p": [1.0]}}, ["solve.method=markov"])
    >>> case.kind, case["solve"]
    ('hbar', {'x': [0.0], 'p': [1.0], 'method': 'markov'})
    >>> print(case.text.splitlines()[0])
    kind = "hbar"
    """

    data: dict
    source: str = "<case>"

    @property
    def kind(self) -> str:
        return self.data.get("kind", "")

    @property
    def text(self) -> str:
        return tomli_w.dumps(self.data)

    def __getitem__(self, key):
        return self.data[key]


def parse_value(text: str):
    """A --set value parsed as a TOML value; a bare word is taken as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except RecursionError:
        raise InputError("--set", f"value nested more than {MAX_DEPTH} levels deep") from None
    except tomllib.TOMLDecodeError:
        if text and all(c.isalnum() or c in "_-.:/" for c in text):
            return text
        raise InputError("--set", f"cannot parse value '{text}' as TOML") from None


def apply_override(data: dict, assignment: str) -> None:
    """Apply ``a.b.c=VALUE`` in place; every table on the path must exist (except the last key)."""
    path, sep, text = assignment.partition("=")
    if not sep or not path.strip():
        raise InputError("--set", f"expected KEY=VALUE, got '{assignment}'")
    set_path(data, path.strip(), parse_value(text.strip()), origin="--set")


def set_path(data: dict, path: str, value, origin: str = "--set") -> None:
    """``data[a][b][c] = value`` for ``path = "a.b.c"``; the tables on the way must exist,
    except a missing top-level table (e.g. [solve]) which is created."""
    parts = path.split(".")
    if not all(parts):
        raise InputError(origin, f"bad key path '{path}'")
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part) if isinstance(node, dict) else None
        if not isinstance(nxt, dict):
            if isinstance(node, dict) and part not in node and i == 0 and part in TOP_LEVEL:
                node[part] = {}
                nxt = node[part]
            else:
                where = ".".join(parts[: i + 1])
                hint = did_you_mean(part, node) if isinstance(node, dict) else ""
                raise InputError(origin, f"unknown path '{path}': no table '{where}'{hint}")
        node = nxt
    node[parts[-1]] = value


def _flatten(table: dict, prefix: str = "") -> list:
    """Nested tables to (dotted path, value) pairs: ``{grid = {x = {points = 81}}}`` -> grid.x.points."""
    out = []
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flatten(value, path + "."))
        else:
            out.append((path, value))
    return out


def apply_ci(case: "Case") -> "Case":
    """The case with its optional [ci] table of overrides applied (``hjb run --ci``).

    [ci] holds dotted keys and the values a quick run uses, e.g.
    ``[ci]  grid.x.points = 81`` or ``"solve.eps" = [0.1, 0.01]``: the same
    solve at reduced resolution, which is how every shipped case runs in CI.
    """
    table = case.data.get("ci", {})
    if not isinstance(table, dict):
        raise InputError("ci", f"expected a table of KEY = VALUE overrides, got {table!r}")
    data = copy.deepcopy(case.data)
    for path, value in _flatten(table):
        if path.split(".")[0] == "ci":
            raise InputError(f"ci.{path}", "[ci] cannot override itself")
        set_path(data, path, value, origin=f"ci.{path}")
    return Case(data, case.source)


TOP_LEVEL = ("kind", "title", "model", "grid", "solve", "output", "ci")


def load_case(path, overrides=()) -> Case:
    """Read a TOML case file and apply ``KEY=VALUE`` overrides (SPEC section 10).

    Case files are data: nothing in them is evaluated (a loss named
    ``"package.module:function"`` is imported when the case runs).  The case is
    not validated here; :func:`hjb.run` checks it against its kind's schema.

    Parameters
    ----------
    path : str or path-like
        The case file (``hjb list`` shows the shipped ones; as files they are
        ``importlib.resources.files("hjb.cases") / "NAME.toml"``).
    overrides : str or sequence of str, optional
        ``"KEY=VALUE"`` assignments by dotted path, values parsed as TOML (as
        ``hjb run --set``): ``"solve.eps=1e-3"``, ``"grid.x.points=801"``,
        ``"solve.eps=[0.1, 0.01]"`` (a sweep).

    Returns
    -------
    Case

    Raises
    ------
    InputError
        A missing file, a folder, a TOML syntax error, a file that is not
        UTF-8, or an override whose path does not exist.

    Example
    -------
    >>> import hjb
    >>> from importlib.resources import files
    >>> case = hjb.load_case(files("hjb.cases") / "quadratic_value.toml", ["solve.eps=0.01"])
    >>> case.kind, case["solve"]
    ('eps_hjb', {'T': 0.5, 'eps': 0.01})
    >>> case["title"]
    'quadratic loss, eps-HJB value at eps = 1e-3'
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(path, "case file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a case file") from None
    except RecursionError:
        raise InputError(path, f"nested more than {MAX_DEPTH} levels deep") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"TOML syntax error: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(path, "not a UTF-8 text file") from None
    return case_from_dict(data, overrides, source=path)


#: Tables and lists nest at most this deep in a case (the deepest a shipped case uses is 4).
MAX_DEPTH = 20


def _depth(value, level: int = 0, where: str = "case") -> None:
    if level > MAX_DEPTH:
        raise InputError(where, f"nested more than {MAX_DEPTH} levels deep")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        _depth(item, level + 1, f"{where}.{key}" if isinstance(value, dict) else where)


def case_from_dict(data: dict, overrides=(), source: str = "<case>") -> Case:
    """A case from a dict (deep-copied) with ``KEY=VALUE`` overrides applied (one string or a list)."""
    _depth(data)
    data = copy.deepcopy(data)
    for assignment in [overrides] if isinstance(overrides, str) else overrides:
        apply_override(data, assignment)
    _depth(data)
    return Case(data, source)
