"""Sphinx configuration of the hjb API reference (build: python -m sphinx -b html docs docs/_build/html)."""
from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys

# Document this checkout, whether or not (and wherever) hjb is installed.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

import hjb  # noqa: E402

project = "hjb"
author = "the hjb developers"
copyright = "2026, the hjb developers"
version = release = hjb.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"            # the numpy-style sections give the types
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = f"hjb {release}"
# Docstrings are read in a terminal first (help()): keep the HTML as close to it as possible.
highlight_language = "none"
pygments_style = "sphinx"


# ---------------------------------------------------------------- plain-text math in docstrings
#
# hjb's docstrings write formulas as plain text (``|x - y|^2``, ``V*``, ``a_-(x)``),
# readable in help().  Three conventions make them valid reStructuredText here,
# without changing what help() shows:
#
# * a block indented under a paragraph (after a blank line, or between two lines
#   of text) is a formula: it is shown verbatim, as if the paragraph ended in ``::``;
# * outside ``literal`` text and roles, ``|`` and ``*`` are plain characters (no
#   substitution references, no emphasis: hjb's docstrings use neither);
# * so is an underscore that ends a word (``a_-`` is not a hyperlink reference).

_LITERAL = re.compile(r"(``.*?``|`[^`]*`_?)")


def _escape(line: str) -> str:
    bullet = re.match(r"\s*\* ", line)             # a "* " bullet stays a bullet
    head, line = (line[:bullet.end()], line[bullet.end():]) if bullet else ("", line)
    parts = _LITERAL.split(line)
    for i in range(0, len(parts), 2):           # the even parts lie outside literals and roles
        text = parts[i].replace("|", r"\|").replace("*", r"\*")
        parts[i] = re.sub(r"(?<=\w)_(?=\W|$)", r"\\_", text)
    return head + "".join(parts)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _content_column(line: str) -> int:
    """Where the text of a line starts (after a ``-`` or ``*`` bullet)."""
    bullet = re.match(r"\s*[-*] ", line)
    return bullet.end() if bullet else _indent(line)


#: numpy-style sections whose entries are ``name : type`` lines with indented descriptions.
FIELD_SECTIONS = {"Parameters", "Other Parameters", "Returns", "Yields", "Receives", "Raises",
                  "Warns", "Attributes", "Methods"}


def plain_math(app, what, name, obj, options, lines):
    out = []
    paragraph = None                            # (index in out, raw lines) of the current paragraph
    literal_at = None                           # indentation of the enclosing literal block
    doctest = fields = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        i += 1
        if literal_at is not None:
            if stripped and _indent(line) <= literal_at:
                literal_at = None
            else:
                out.append(line)
                continue
        if not stripped:
            paragraph, doctest = None, False
            out.append(line)
            continue
        if doctest or stripped.startswith(">>>"):
            doctest = True                      # a doctest block runs to the next blank line
            out.append(line)
            continue
        following = lines[i] if i < len(lines) else ""
        if set(following.strip()) == {"-"}:     # a numpy-style section header
            fields, paragraph = stripped in FIELD_SECTIONS, None
            out.append(line)
            continue
        if paragraph is None:
            paragraph = (len(out), [])
        paragraph[1].append(line)
        if stripped.endswith("::"):
            literal_at, paragraph = _indent(line), None
            out.append(_escape(line))
            continue
        # A block indented under a paragraph after a blank line: a formula.
        if not stripped.startswith(":") and not following.strip():
            nxt = next((later for later in lines[i:] if later.strip()), None)
            if nxt is not None and _indent(nxt) > _content_column(line):
                literal_at, paragraph = _indent(line), None
                out.append(_escape(line) + (":" if stripped.endswith(":") else " ::"))
                continue
        # A block indented directly under a line of text (no blank line between).
        if not fields and following.strip() and _indent(following) > _content_column(line):
            end = i
            while end < len(lines) and lines[end].strip() and _indent(lines[end]) > _content_column(line):
                end += 1
            first, raw = len(paragraph[1]) == 1, paragraph[1]
            if first and (end == len(lines) or not lines[end].strip()):
                pass                            # a term and its definition: a definition list
            elif first:                         # text resumes at once: the block is a formula
                out += [_escape(line) + " ::", "", *lines[i:end], ""]
                i, paragraph = end, None
                continue
            else:                               # inside a paragraph: show the paragraph verbatim
                start = paragraph[0]
                out[start:] = [" " * _indent(raw[0]) + "::", ""] + ["    " + r for r in raw + lines[i:end]] + [""]
                i, paragraph = end, None
                continue
        out.append(_escape(line))
    lines[:] = out


# ---------------------------------------------------------------- every public name on the API page

def _other_exports(documented: str) -> str:
    """autodoc directives for the names of hjb._EXPORTS that api.rst does not list."""
    missing = [name for name in hjb._EXPORTS if not re.search(rf"(hjb\.|:: ){name}\b", documented)]
    blocks = []
    for name in missing:
        value = getattr(hjb, name)
        directive = ("autoclass" if isinstance(value, type) else
                     "autofunction" if callable(value) else "autodata")
        blocks.append(f".. {directive}:: hjb.{name}\n")
    return "\n".join(blocks) if blocks else "(none: every public name is listed above)\n"


# ---------------------------------------------------------------- every module of a subpackage

def _modules(names: list) -> list:
    """The named modules; a package stands for itself and every module under it, in name order."""
    out = []
    for name in names:
        module = importlib.import_module(name)
        out.append(name)
        if hasattr(module, "__path__"):
            found = pkgutil.walk_packages(module.__path__, prefix=name + ".")
            out.extend(sorted(info.name for info in found if not info.name.startswith(name + ".cases")))
    return out


def _module_sections(names: list) -> str:
    blocks = []
    for name in _modules(names):
        if blocks or len(names) > 1 or name != names[0]:
            blocks.append(f"{name}\n{'-' * len(name)}\n")
        public = [f":{'class' if isinstance(getattr(hjb, key), type) else 'func'}:`hjb.{key}`"
                  for key, where in hjb._EXPORTS.items() if where == name and callable(getattr(hjb, key))]
        blocks.append(f".. automodule:: {name}\n   :members:\n")
        if public:
            blocks.append(f"Public (see :doc:`api`): {', '.join(public)}.\n")
    return "\n".join(blocks)


_MODULES = re.compile(r"^\.\. hjb-modules:: (.+)$", re.M)


def _kinds() -> str:
    """hjb.KINDS described from the registry itself: each kind with its grids and [solve] keys."""
    from hjb.runner.registry import KINDS
    lines = [".. data:: KINDS", "   :module: hjb", "",
             "   The registry of the kinds of run (``hjb.runner.registry``): kind name ->",
             "   :class:`hjb.runner.kind.KindSpec`.  A case file's ``kind`` selects one; its",
             "   ``[solve]`` keys are checked against the kind's schema (required keys marked !,",
             "   sweepable keys, which may hold a list, marked []).", ""]
    for name, spec in KINDS.items():
        keys = ", ".join(f"``{key}``" + ("!" if k.required else "") + ("[]" if k.sweep else "")
                         for key, k in spec.solve.items())
        grids = ", ".join(spec.grids) or "none"
        lines += [f"   ``{name}``", f"      grids: {grids}; [solve]: {keys or 'none'}", ""]
    return "\n".join(lines) + "\n"


def fill_pages(app, docname, source):
    text = source[0]
    if docname == "api":
        text = text.replace(".. hjb-kinds", _kinds())
        marker = ".. hjb-other-exports"
        text = text.replace(marker, _other_exports(text.replace(marker, "")))
    source[0] = _MODULES.sub(lambda m: _module_sections(m.group(1).split()), text)


def skip_public(app, what, name, obj, skip, options):
    """A module page leaves out the public names: the API page documents them."""
    if what == "module" and name in hjb._EXPORTS and getattr(obj, "__module__", None) == hjb._EXPORTS[name]:
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", plain_math, priority=100)   # before napoleon (500)
    app.connect("autodoc-skip-member", skip_public)
    app.connect("source-read", fill_pages)
    return {"parallel_read_safe": True}
