"""Bad input: exit code 2, one line on stderr naming the key/value, no traceback,
no output file (SPEC section 10).  Plus a property test: random case
dictionaries never end in an unhandled exception."""
import copy
import os
import string

import pytest
import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hjb.cli import main

BASE = {
    "kind": "eps_hjb",
    "title": "tiny",
    "model": {"dim": 1, "gamma": 2.0, "controls": [0.0, 1.0], "loss": {"name": "quadratic", "a": 1.0, "c": 0.5}},
    "grid": {"x": {"lower": -2.0, "upper": 2.0, "points": 9}, "y": {"lower": -2.0, "upper": 2.0, "points": 9}},
    "solve": {"T": 0.2, "eps": 0.1},
}


def case_with(**changes):
    """BASE with dotted-path changes; the value None deletes the key."""
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        *tables, last = path.split("__")
        node = data
        for t in tables:
            node = node[t]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return data


def hbar_case(**solve):
    return {"kind": "hbar", "model": {"gamma": 2.0, "loss": {"name": "quadratic"}},
            "solve": {"x": [0.0, 1.0], "p": [1.0, -1.0], **solve}}


# (id, case dict or raw text or None for a missing file, extra CLI args, text the message must contain)
TABLE = [
    ("missing file", None, [], "case file not found"),
    ("toml syntax", "kind = 'eps_hjb'\n[model\n", [], "TOML syntax error"),
    ("not utf-8", b"kind = '\xff\xfe'\n", [], "not a UTF-8"),
    ("unknown kind", case_with(kind="eps_hbj"), [], "did you mean 'eps_hjb'"),
    ("missing kind", case_with(kind=None), [], "case.kind: missing required key"),
    ("misspelled top key", case_with(tittle="x"), [], "case.tittle: unknown key (did you mean 'title'?)"),
    ("misspelled solve key", case_with(solve__epz=0.1), [], "solve.epz: unknown key (did you mean 'eps'?)"),
    ("misspelled model key", case_with(model__gama=1.0), [], "model.gama: unknown key (did you mean 'gamma'?)"),
    ("misspelled loss parameter", case_with(model__loss__cc=1.0), [], "model.loss.cc: unknown parameter"),
    ("wrong type", case_with(solve__T="one"), [], "solve.T: expected a number"),
    ("wrong type dim", case_with(model__dim=1.5), [], "model.dim: expected an integer"),
    ("eps zero", case_with(solve__eps=0.0), [], "solve.eps: must be positive"),
    ("eps negative in sweep", case_with(solve__eps=[0.1, -0.01]), [], "solve.eps: must be positive, got -0.01"),
    ("eps empty sweep", case_with(solve__eps=[]), [], "solve.eps: a sweep list must not be empty"),
    ("eps repeated sweep", case_with(solve__eps=[0.1, 0.1]), [], "must not repeat"),
    ("eps not finite", "", ["--set", "solve.eps=inf"], "solve.eps: must be a finite number"),
    ("gamma negative", case_with(model__gamma=-1.0), [], "model.gamma: must be positive"),
    ("T zero", case_with(solve__T=0), [], "solve.T: must be positive"),
    ("missing T", case_with(solve__T=None), [], "solve.T: missing required key"),
    ("inverted bounds", case_with(grid__x={"lower": 2.0, "upper": -2.0, "points": 9}), [],
     "grid.x: upper = -2 must exceed lower = 2"),
    ("too few points", case_with(grid__y={"lower": -2.0, "upper": 2.0, "points": 2}), [],
     "grid.y.points: needs at least 3 points"),
    ("fractional points", case_with(grid__y={"lower": -2.0, "upper": 2.0, "points": 9.5}), [],
     "grid.y.points: expected integer point counts"),
    ("grid dim mismatch", case_with(grid__x={"lower": [-2.0, -2.0], "upper": [2.0, 2.0], "points": [5, 5]}), [],
     "grid.x.lower: expected a number (model.dim = 1)"),
    ("y-box outside x-box", case_with(grid__y={"lower": -3.0, "upper": 2.0, "points": 9}), [],
     "grid.y: the y-box [-3, 2] must lie inside the x-box [-2, 2]"),
    ("unknown grid block", case_with(grid__z={"lower": 0.0, "upper": 1.0, "points": 3}), [],
     "grid.z: unknown grid block"),
    ("missing grid block", case_with(grid__y=None), [], "grid.y: missing"),
    ("unknown loss", case_with(model__loss={"name": "quadratc"}), [], "did you mean 'quadratic'"),
    ("loss without name", case_with(model__loss={"a": 1.0}), [], "model.loss.name: missing"),
    ("unimportable user loss", case_with(model__loss={"name": "no_such_pkg.losses:bowl"}), [],
     "model.loss.name: cannot import 'no_such_pkg.losses:bowl'"),
    ("user loss missing attribute", case_with(model__loss={"name": "math:no_such_function"}), [],
     "model.loss.name: cannot import 'math:no_such_function'"),
    ("loss parameter not finite", case_with(model__loss={"name": "quadratic", "c": float("nan")}), [],
     "model.loss.c: must be a finite number"),
    ("loss centre wrong length", case_with(model__loss={"name": "quadratic", "c": [1.0, 2.0]}), [],
     "model.loss.c: needs 1 components"),
    ("controls min > max", case_with(model__controls=[1.0, 0.0]), [], "model.controls: u_min = 1 exceeds u_max = 0"),
    ("controls wrong length", case_with(model__controls=[1.0]), [], "model.controls: must be [u_min, u_max]"),
    ("--set unknown path", "", ["--set", "solver.eps=0.1"], "unknown path 'solver.eps'"),
    ("--set unknown key", "", ["--set", "solve.epsilon=0.1"], "solve.epsilon: unknown key (did you mean 'eps'?)"),
    ("--set not KEY=VALUE", "", ["--set", "solve.eps"], "--set: expected KEY=VALUE"),
    ("--set bad value", "", ["--set", "solve.eps=[0.1,"], "cannot parse value"),
    ("two sweeps", case_with(solve__eps=[0.1, 0.01], solve__T=0.2,
                             grid__x={"lower": -2.0, "upper": 2.0, "points": [9, 17]}), [],
     "sweep one key at a time"),
    ("hbar unpaired", hbar_case(p=[1.0]), [], "solve.p: must pair with solve.x"),
    ("hbar unknown method", hbar_case(method="quadrature2"), [], "solve.method: unknown method"),
    ("hbar non-numeric x", hbar_case(x=["a", "b"]), [], "solve.x: must be a non-empty list"),
    ("effective courant", {"kind": "effective", "model": {"gamma": 2.0, "loss": {"name": "quadratic"}},
                           "grid": {"x": {"lower": -1.0, "upper": 1.0, "points": 11}},
                           "solve": {"T": 0.1, "courant": 2.0}}, [], "solve.courant: must lie in (0, 1]"),
    ("astronomically many steps", {"kind": "egd", "model": {"gamma": 2.0, "loss": {"name": "quadratic"}},
                                   "grid": {"x": {"lower": -1.0, "upper": 1.0, "points": 9}},
                                   "solve": {"T": 0.2, "courant": 1e-200}}, [], "solve: needs 5.33e+199 time steps, more than the limit"),
    ("huge gamma", case_with(model__gamma=1e5), [], "model.gamma: must lie in (0, 10000], got 100000"),
    ("a centre of one component in d = 2", {"kind": "effective", "model": {"dim": 2, "gamma": 2.0,
                                                                         "loss": {"name": "quadratic", "c": [0.5]}},
                                            "grid": {"x": {"lower": [-1.0, -1.0], "upper": [1.0, 1.0], "points": [9, 9]}},
                                            "solve": {"T": 0.1}}, [],
     "model.loss.c: needs 2 components (model.dim = 2), got 1"),
    ("bad --workers", "", ["--workers", "0"], "--workers: must be at least 1"),
    ("bad memory share", "", ["--max-memory-share", "-1"], "--max-memory-share: must be a positive share"),
    ("memory refused", case_with(grid__x={"lower": -2.0, "upper": 2.0, "points": 100_000},
                                 grid__y={"lower": -2.0, "upper": 2.0, "points": 100_000}), [],
     "grid: an eps-HJB grid of 10,000,000,000 nodes needs about"),
    ("unknown [ci] path", case_with(ci={"solver": {"eps": 0.1}}), ["--ci"], "ci.solver.eps: unknown path"),
]


def _write(tmp_path, content) -> str:
    path = tmp_path / "case.toml"
    if content is None:
        return str(tmp_path / "no_such_case.toml")
    if content == "":
        content = BASE
    if isinstance(content, dict):
        path.write_text(tomli_w.dumps(content))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


@pytest.mark.parametrize("name,content,extra,expected", TABLE, ids=[t[0] for t in TABLE])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, name, content, extra, expected):
    assert len(TABLE) >= 20
    case = _write(tmp_path, content)
    out = tmp_path / "out.h5"
    code = main(["run", case, "-o", str(out), "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hjb: ") and "Traceback" not in err
    assert expected in lines[0], lines[0]
    assert sorted(os.listdir(tmp_path)) == (["case.toml"] if content is not None else [])


def test_existing_output_is_refused_before_solving(tmp_path, capsys):
    case = _write(tmp_path, BASE)
    out = tmp_path / "out.h5"
    out.write_bytes(b"previous")
    assert main(["run", case, "-o", str(out), "--quiet"]) == 2
    assert "exists already; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == b"previous"


def test_output_that_cannot_be_written_is_refused_before_solving(tmp_path, capsys):
    case = _write(tmp_path, BASE)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["run", case, "-o", str(blocker / "out.h5"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cannot write there" in err and len(err.strip().splitlines()) == 1


def test_case_files_are_data_not_code(tmp_path, capsys):
    """A string that looks like Python is never evaluated: it is just a wrong value."""
    marker = tmp_path / "evaluated"
    data = case_with(solve__T=f"__import__('pathlib').Path('{marker}').touch()")
    assert main(["run", _write(tmp_path, data), "-o", str(tmp_path / "o.h5"), "--quiet"]) == 2
    assert "solve.T: expected a number" in capsys.readouterr().err
    assert not marker.exists()


# ------------------------------------------------------------------ property test

finite = st.floats(-10, 10, allow_nan=False)
# Numbers up to 1e3 in size (and NaN, +-inf): beyond that, runs can overflow inside a
# solver or take astronomically many steps (see the report on hjb/effective.py).
numbers = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([float("nan"), float("inf"), -float("inf")]))
anything = st.one_of(st.none(), st.booleans(), st.integers(-5, 50), numbers,
                     st.text(string.ascii_letters + "._:", max_size=8), st.lists(finite, max_size=3),
                     st.lists(st.lists(finite, max_size=2), max_size=2), st.dictionaries(st.text(max_size=3), finite,
                                                                                         max_size=2))
KEYS = ["kind", "title", "model.dim", "model.gamma", "model.controls", "model.loss.name", "model.loss.a",
        "model.loss.c", "model.loss.kappa", "model.loss.narrow_width", "grid.x.lower", "grid.x.upper",
        "grid.x.points", "grid.y.lower", "grid.y.upper", "grid.y.points", "solve.T", "solve.eps", "solve.dt",
        "solve.courant", "solve.resolution", "solve.x", "solve.p", "solve.method", "solve.y_scheme",
        "solve.snapshots", "output", "grid.z", "model", "solve", "nonsense.key"]
GOOD = {
    "kind": st.sampled_from(["eps_hjb", "effective", "egd", "hbar"]),
    "model.dim": st.sampled_from([1, 1, 1, 2]),
    "model.gamma": st.floats(0.5, 20),
    "model.controls": st.sampled_from([[0.0, 1.0], [0.0, 2.0], [0.5, 1.0], [1.0, 1.0]]),
    "model.loss.name": st.sampled_from(["quadratic", "wide_narrow", "tilted_cosine", "double_well"]),
    "grid.x.points": st.integers(3, 9), "grid.y.points": st.integers(3, 9),
    "grid.x.lower": st.floats(-4, -1), "grid.x.upper": st.floats(1, 4),
    "grid.y.lower": st.floats(-1, -0.2), "grid.y.upper": st.floats(0.2, 1),
    "solve.T": st.floats(0.01, 1), "solve.eps": st.floats(1e-4, 1),
    "solve.x": st.lists(finite, min_size=1, max_size=3), "solve.p": st.lists(finite, min_size=1, max_size=3),
}


def _tiny(kind):
    base = copy.deepcopy(BASE)
    base["kind"] = kind
    if kind in ("effective", "egd"):
        base.pop("grid")["y"]
        base["grid"] = {"x": {"lower": -2.0, "upper": 2.0, "points": 9}}
        base["solve"] = {"T": 0.2}
    if kind == "hbar":
        del base["grid"]
        base["solve"] = {"x": [0.0, 1.0], "p": [1.0, -1.0]}
    return base


@st.composite
def random_cases(draw):
    """A valid tiny case of a random kind, then a few random edits: plausible
    values for the key, or anything at all, or a deletion."""
    data = _tiny(draw(GOOD["kind"]))
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.sampled_from(KEYS))
        choice = draw(st.integers(0, 2))
        value = draw(GOOD[key]) if choice == 0 and key in GOOD else None if choice == 2 else draw(anything)
        *tables, last = key.split(".")
        node = data
        for t in tables:
            if not isinstance(node.get(t), dict):
                node[t] = {}
            node = node[t]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


# derandomize: the same 500 examples on every run (a flaky test is a defect); the example is
# the case an earlier random run found: a key "\r" split the one-line message in two.
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None,
          derandomize=True)
@given(data=random_cases())
@example(data={**_tiny("eps_hjb"), "solve": {"T": 0.2, "eps": 0.1, "\r": 1}})
def test_random_cases_never_end_in_an_unhandled_exception(tmp_path_factory, data):
    """Every run exits 0 (and writes a file) or 2 (one line, no file); never a traceback.

    The grids are tiny so 500 runs take seconds; NaN/Inf generated as data must
    be refused as bad input, not surface as a non-finite solve (exit 1)."""
    folder = tmp_path_factory.mktemp("case")
    path = folder / "case.toml"
    path.write_text(tomli_w.dumps(data))
    out = folder / "out.h5"
    import contextlib
    import io
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", str(path), "-o", str(out), "--quiet", "--workers", "1"])
    text = err.getvalue()
    assert "Traceback" not in text and "internal error" not in text, text
    errors = [line for line in text.splitlines() if not line.startswith("hjb: warning:")]
    if code == 0:
        assert out.exists() and not errors
    else:
        # 2: bad input; 1 only for a NaN/Inf met in a solve, reported with solver/step/node.
        assert code == 2 or (code == 1 and errors[0].startswith("hjb: non-finite value: ")), text
        assert len(errors) == 1 and errors[0].startswith("hjb: ") and not out.exists(), text
