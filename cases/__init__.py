"""The shipped case files, installed as the package data ``hjb.cases``.

This folder stays the one source of the cases: pyproject.toml maps it into the
package (``[tool.setuptools.package-dir]``), and ``hjb list`` / ``hjb run NAME``
find the installed copy with ``importlib.resources.files("hjb.cases")``.
Add a case by adding a ``*.toml`` file here; nothing else needs to change.
"""
