"""A deterministic fuzzer of case files and --set overrides (issue 11).

Every shipped case (at its [ci] size) is mutated with hostile values (NaN, Inf, 1e308,
-1, 0, 2**70, true, "", control characters, deep nesting, tables where numbers belong,
unknown and deleted keys, loss names that are not Python references), either in the TOML
file or through ``--set``, and run through ``hjb.cli.main``.  Whatever happens:

* no traceback, ever; exit 2 prints exactly one line (warnings aside), exit 1 only a
  one-line non-finite or write report;
* exit 0 writes a file whose numbers are all finite (NaN only outside a ball);
* any failure leaves no file, no temporary and no folder behind.

CI runs FUZZ_CASES (300) cases from a fixed seed; ``HJB_FUZZ_CASES=5000 pytest
tests/test_fuzz.py`` runs more.  Solves are bounded by HJB_MAX_STEPS and
HJB_MEMORY_SHARE so that a mutation that stays valid stays cheap.
"""
import contextlib
import glob
import io
import math
import os
import random

import h5py
import numpy as np
import pytest
import tomli_w

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

from hjb.cli import main
from hjb.runner.registry import KINDS

CASES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "cases", "*.toml")))
FUZZ_CASES = int(os.environ.get("HJB_FUZZ_CASES", "300"))
SEED = 20261123

HOSTILE = [math.nan, math.inf, -math.inf, 1e308, -1e308, 1e-300, 0, 0.0, -1, -1.0, 2**70, -(2**70), 1e12,
           True, False, "", "x", "\r", "\x1b[31mred", ":", ":b", ".:x", "os:system", [], [1.0], [[1.0, 2.0]],
           [math.nan], {"a": 1}, 3, 0.5, 1e-12, [0.0, 1.0], "fitted", 10**9]
SET_TEXTS = ["nan", "inf", "-inf", "1e308", "-1", "0", "2e1000", "true", '""', "'\\r'", "[[[1]]]", "{a = 1}",
             "[]", "1e-300", "9" * 30, "'a:b'", "[1, 'a']", "3"]


def _leaves(table, prefix=()):
    for key, value in table.items():
        if key == "ci":
            continue
        if isinstance(value, dict):
            yield from _leaves(value, prefix + (key,))
        yield prefix + (key,), value


def _deep(n):
    value = [1.0]
    for _ in range(n):
        value = [value]
    return value


def _mutate(rng, data):
    """One to three random edits of a case: hostile value, deletion, unknown key; a third of
    the inputs get plausible edits only (numbers scaled), so that the solvers run too."""
    mild = rng.random() < 0.33
    for _ in range(rng.randint(1, 3)):
        path, _ = rng.choice(list(_leaves(data)))
        node = data
        for key in path[:-1]:
            node = node[key]
        action = rng.random()
        old = node[path[-1]]
        if mild and not (isinstance(old, (int, float)) and not isinstance(old, bool)):
            continue
        if (mild or action < 0.3) and isinstance(old, (int, float)) and not isinstance(old, bool):
            # a plausible value nearby: most of these still solve, so the solvers are fuzzed too
            node[path[-1]] = type(old)(old * rng.choice([0.5, 0.9, 1.1, 2.0, -1.0]))
        elif action < 0.7:
            node[path[-1]] = rng.choice(HOSTILE + [_deep(rng.choice([5, 60]))])
        elif action < 0.85:
            node.pop(path[-1], None)
        else:
            node[rng.choice(["extra", "\r", "Eps", "points "])] = rng.choice(HOSTILE[:12])
    return data


def _inputs():
    rng = random.Random(SEED)
    bases = []
    for path in CASES:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        bases.append((os.path.basename(path), data))
    for i in range(FUZZ_CASES):
        name, data = bases[i % len(bases)]
        data = _mutate(rng, {k: v for k, v in __import__("copy").deepcopy(data).items()})
        sets = []
        if rng.random() < 0.35:                          # the --set path
            path, _ = rng.choice(list(_leaves(data)))
            sets = ["--set", ".".join(path) + "=" + rng.choice(SET_TEXTS)]
        yield i, name, data, sets


def _finite_file(path):
    with h5py.File(path, "r") as fh:
        kind = fh.attrs["kind"]
        allowed = set(KINDS[kind].nan_outside) if kind in KINDS else set()
        bad = []

        def visit(name, item):
            if isinstance(item, h5py.Dataset) and item.dtype.kind == "f":
                values = item[()]
                if name.rsplit("/", 1)[-1] in allowed:
                    values = values[~np.isnan(values)]
                if not np.all(np.isfinite(values)):
                    bad.append(name)
        fh.visititems(visit)
    return bad


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """Run every fuzzed input once; the tests below read the outcomes."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HJB_MAX_STEPS", "3000")
    mp.setenv("HJB_MEMORY_SHARE", "0.05")
    outcomes = []
    try:
        for i, name, data, sets in _inputs():
            folder = tmp_path_factory.mktemp(f"fuzz{i}")
            case = folder / "case.toml"
            try:
                case.write_text(tomli_w.dumps(data))
            except (TypeError, ValueError, RecursionError):
                continue                                  # not expressible in TOML
            out = folder / "results" / "out.h5"
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(["run", str(case), "-o", str(out), "--quiet", *sets])
            left = sorted(os.path.relpath(p, folder) for p in glob.glob(str(folder / "**"), recursive=True)
                          if os.path.relpath(p, folder) not in (".", "case.toml"))
            outcomes.append({"i": i, "case": name, "sets": sets, "code": code, "err": err.getvalue(),
                             "out": out, "left": left})
    finally:
        mp.undo()
    return outcomes


def test_enough_inputs_every_kind_and_the_set_path(campaign):
    assert len(campaign) >= min(FUZZ_CASES, 300) * 0.95
    kinds = set()
    for path in CASES:
        with open(path, "rb") as fh:
            kinds.add(tomllib.load(fh)["kind"])
    assert kinds == set(KINDS)                          # every kind has a shipped case to mutate
    assert sum(bool(o["sets"]) for o in campaign) >= 50
    codes = {o["code"] for o in campaign}
    assert 2 in codes and 0 in codes


def test_no_traceback_and_one_line_messages(campaign):
    for o in campaign:
        assert o["code"] in (0, 1, 2, 130), o
        assert "Traceback" not in o["err"] and "internal error" not in o["err"], (o["case"], o["sets"], o["err"])
        lines = [line for line in o["err"].splitlines() if not line.startswith("hjb: warning:")]
        if o["code"] == 0:
            assert not lines, o
        else:
            assert len(lines) == 1 and lines[0].startswith("hjb: "), (o["case"], o["sets"], o["err"])
        if o["code"] == 1:
            assert lines[0].startswith(("hjb: non-finite value: ", "hjb: cannot write ")), o


def test_failures_leave_nothing_behind(campaign):
    for o in campaign:
        if o["code"] != 0:
            assert o["left"] == [], (o["case"], o["sets"], o["left"])


def test_success_writes_finite_numbers(campaign):
    for o in campaign:
        if o["code"] == 0:
            assert o["out"].exists() and _finite_file(o["out"]) == [], (o["case"], o["sets"])


def test_campaign_figures(campaign, capsys):
    """The figures of the closing note: inputs, exit codes, tracebacks, files left behind."""
    counts = {code: sum(o["code"] == code for o in campaign) for code in sorted({o["code"] for o in campaign})}
    with capsys.disabled():
        print(f"\nfuzz: {len(campaign)} inputs, exit codes {counts}, "
              f"{sum('Traceback' in o['err'] for o in campaign)} tracebacks, "
              f"{sum(bool(o['left']) and o['code'] != 0 for o in campaign)} failures leaving files")
