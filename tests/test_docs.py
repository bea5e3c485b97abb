"""The API reference (docs/) builds with Sphinx, warnings as errors, and documents every public name.

Sphinx comes with the ``test`` extra (and the ``docs`` extra); without it the
build check is skipped, saying so.
"""
import importlib.util
import os
import subprocess
import sys
import time

import pytest

import hjb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """docs/ built once into a temporary folder: (html folder, seconds it took)."""
    if importlib.util.find_spec("sphinx") is None:
        pytest.skip("sphinx is not installed (python -m pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("docs") / "html"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
                           os.path.join(ROOT, "docs"), str(out)],
                          capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, f"sphinx failed ({seconds:.1f} s):\n{proc.stdout}\n{proc.stderr}"
    return out, seconds


def test_the_docs_build_without_a_warning(built):
    out, seconds = built
    assert (out / "index.html").is_file()
    print(f"docs built in {seconds:.1f} s")


def test_the_api_page_documents_every_public_name(built):
    api = (built[0] / "api.html").read_text(encoding="utf-8")
    for name in ("solve_eps_hjb", "effective_hamiltonian", *hjb._EXPORTS):
        assert f'id="hjb.{name}"' in api, f"hjb.{name} is not documented on docs/api"
    # the docstrings themselves made it: equations, options, examples
    assert "truncated delta-cell problem" in api and "richardson" in api and "&gt;&gt;&gt;" in api


def test_every_subpackage_has_its_page(built):
    out = built[0]
    for page, module in [("operators", "hjb.operators.generator"), ("solvers", "hjb.solvers.eps_hjb"),
                         ("hbar", "hjb.hbar.methods"), ("stochastic", "hjb.stochastic.two_scale"),
                         ("reference", "hjb.reference.quadratic"), ("runner", "hjb.runner.case"),
                         ("output", "hjb.output.hdf5"), ("core", "hjb.model"), ("cli", "hjb.cli")]:
        html = (out / f"{page}.html").read_text(encoding="utf-8")
        assert f'id="module-{module}"' in html, f"{module} is missing from docs/{page}"
