"""The docstrings of hjb's public names: numpy-style, complete, and their examples run as shown.

Every example is a doctest: ``>>>`` lines whose printed output must match
exactly (ELLIPSIS allowed where written), run here for every module that
defines a public name, so an example cannot rot.
"""
import doctest
import importlib
import inspect
import io

import pytest

import hjb

#: The modules that define the public names (hjb._EXPORTS), each run as one doctest set.
MODULES = sorted(set(hjb._EXPORTS.values()))
#: Public names that are data, not functions or classes (documented on the API page).
DATA = {"KINDS"}


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run_as_shown(module):
    tests = doctest.DocTestFinder().find(importlib.import_module(module))
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    for test in tests:
        runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()


def _sections(doc: str) -> set:
    """The numpy-style section titles of a docstring (a title line over a rule of dashes)."""
    lines = doc.splitlines()
    return {title.strip() for title, rule in zip(lines, lines[1:]) if rule.strip() and set(rule.strip()) == {"-"}}


@pytest.mark.parametrize("name", [n for n in hjb._EXPORTS if n not in DATA])
def test_public_name_has_a_numpy_docstring(name):
    obj = getattr(hjb, name)
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"hjb.{name} has no docstring"
    sections = _sections(doc)
    try:
        arguments = [p for p in inspect.signature(obj).parameters if p != "self"]
    except (TypeError, ValueError):          # a class with the signature of a builtin (an exception)
        arguments = []
    wanted = ["Example"] + ["Parameters"] * bool(arguments) + ["Returns"] * inspect.isfunction(obj)
    missing = [s for s in wanted if s not in sections and not (s == "Example" and "Examples" in sections)]
    assert not missing, f"the docstring of hjb.{name} lacks the numpy-style section(s) {missing}"


def test_effective_hamiltonian_lists_every_method_and_option():
    from hjb.hbar.methods import METHODS
    doc = inspect.getdoc(hjb.effective_hamiltonian)
    for method, func in METHODS.items():
        assert f'``"{method}"``' in doc, f"method {method} is not described"
        parameters = list(inspect.signature(func).parameters.values())[3:]     # after model, x, p
        for option in [p.name for p in parameters if p.kind is not p.VAR_KEYWORD]:
            assert f"``{option}``" in doc, f"option {option} of method {method} is not described"


def test_make_loss_lists_every_shipped_loss_and_its_parameters():
    from hjb.losses import LOSSES, loss_parameters
    doc = inspect.getdoc(hjb.make_loss)
    for name in LOSSES:
        assert f"``{name}``" in doc, f"loss {name} is missing from make_loss's docstring"
        for param in loss_parameters(name):
            assert f"{param}=" in doc, f"parameter {param} of loss {name} is missing"


def test_two_scale_model_states_its_argument_orders_and_shapes():
    doc = inspect.getdoc(hjb.TwoScaleModel)
    for call in ("phi(x, y, u)", "b(x, y)", "g(x)", "potential(y, x)", "(..., d)"):
        assert call in doc
