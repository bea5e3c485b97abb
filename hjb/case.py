"""Case files: TOML read, overridden by dotted paths, checked against a schema.

Case files are data: nothing in them is evaluated, except that a loss named
``"package.module:function"`` is imported.  Every mistake raises
:class:`hjb.errors.InputError` naming the dotted key.
"""
from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib
import tomli_w

from .errors import InputError, did_you_mean


@dataclass(frozen=True)
class Key:
    """One allowed case key: its type, whether it is required, its default and a check.

    ``check(value)`` returns an error message or None.  ``sweep`` marks a key
    whose value may also be a list, one run per entry.
    """

    type: Any
    required: bool = False
    default: Any = None
    check: Optional[Callable[[Any], Optional[str]]] = None
    sweep: bool = False
    doc: str = ""


def positive(v):
    return None if v > 0 else f"must be positive, got {v:g}"


def non_negative(v):
    return None if v >= 0 else f"must be non-negative, got {v:g}"


def one_of(*choices):
    def check(v):
        return None if v in choices else f"must be one of {', '.join(choices)}, got '{v}'{did_you_mean(v, choices)}"
    return check


def at_least(n):
    def check(v):
        return None if v >= n else f"must be at least {n}, got {v}"
    return check


_TYPE_NAMES = {float: "a number", int: "an integer", str: "a string", bool: "true or false",
               list: "a list", dict: "a table"}


def _type_ok(value, typ) -> bool:
    if typ is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if typ is list:
        return isinstance(value, list)
    return isinstance(value, typ)


def check_value(key: str, value, spec: Key):
    """Type- and range-check one value, or each entry of a sweep list."""
    is_sweep = spec.sweep and isinstance(value, list) and spec.type is not list
    if is_sweep and not value:
        raise InputError(key, "a sweep list must not be empty")
    values = value if is_sweep else [value]
    if is_sweep and len({repr(v) for v in values}) != len(values):
        raise InputError(key, f"a sweep list must not repeat a value, got {value!r}")
    for v in values:
        if not _type_ok(v, spec.type):
            expected = _TYPE_NAMES.get(spec.type, spec.type)
            raise InputError(key, f"expected {expected}{' or a list of them' if spec.sweep else ''}, got {v!r}")
        if spec.type is float and not math.isfinite(v):
            raise InputError(key, f"must be a finite number, got {v!r}")
        if spec.check is not None:
            msg = spec.check(float(v) if spec.type is float else v)
            if msg:
                raise InputError(key, msg)
    converted = [float(v) if spec.type is float else v for v in values]
    return converted if is_sweep else converted[0]


def check_table(prefix: str, table: dict, schema: dict) -> dict:
    """Check a table against ``{name: Key}``; fill defaults; reject unknown keys."""
    if not isinstance(table, dict):
        raise InputError(prefix, f"expected a table, got {table!r}")
    out = {}
    for name, value in table.items():
        if name not in schema:
            raise InputError(f"{prefix}.{name}", f"unknown key{did_you_mean(name, schema)}; "
                             f"allowed: {', '.join(schema) or 'none'}")
        out[name] = check_value(f"{prefix}.{name}", value, schema[name])
    for name, spec in schema.items():
        if name not in out:
            if spec.required:
                raise InputError(f"{prefix}.{name}", "missing required key")
            if spec.default is not None:
                out[name] = copy.deepcopy(spec.default)
    return out


@dataclass
class Case:
    """A parsed case: the data (overrides applied), where it came from, and its TOML text."""

    data: dict
    source: str = "<case>"
    base_dir: str = "."
    overrides: list = field(default_factory=list)

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
    return Case(data, case.source, case.base_dir, case.overrides + [f"{p}={v!r}" for p, v in _flatten(table)])


TOP_LEVEL = ("kind", "title", "model", "grid", "solve", "output", "ci")


def load_case(path, overrides=()) -> Case:
    """Read a TOML case file and apply ``KEY=VALUE`` overrides (not yet validated)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(path, "case file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a case file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"TOML syntax error: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(path, "not a UTF-8 text file") from None
    return case_from_dict(data, overrides, source=path, base_dir=os.path.dirname(os.path.abspath(path)))


def case_from_dict(data: dict, overrides=(), source: str = "<case>", base_dir: str = ".") -> Case:
    data = copy.deepcopy(data)
    for assignment in overrides:
        apply_override(data, assignment)
    return Case(data, source, base_dir, list(overrides))
