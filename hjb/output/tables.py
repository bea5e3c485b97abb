"""Convergence tables: observed orders, and one table written as Markdown, LaTeX and CSV.

Every table script under scripts/ builds a :class:`Table` and calls
:meth:`Table.emit`, so the three formats never drift apart.
"""
from __future__ import annotations

import argparse
import csv
import io
from dataclasses import dataclass, field

import numpy as np

from .atomic import atomic_path


def observed_order(sizes, errors) -> float:
    """Least-squares slope of log(error) against log(size): the observed order p in error ~ size^p."""
    sizes, errors = np.asarray(sizes, float), np.asarray(errors, float)
    if len(sizes) < 2 or np.any(sizes <= 0) or np.any(errors <= 0):
        raise ValueError("observed_order needs at least two positive (size, error) pairs")
    return float(np.polyfit(np.log(sizes), np.log(errors), 1)[0])


def successive_orders(sizes, errors) -> np.ndarray:
    """Order between consecutive refinements (NaN in the first row)."""
    sizes, errors = np.asarray(sizes, float), np.asarray(errors, float)
    out = np.full(len(sizes), np.nan)
    out[1:] = np.log(errors[1:] / errors[:-1]) / np.log(sizes[1:] / sizes[:-1])
    return out


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "–"
        return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


@dataclass
class Table:
    """Rows of values under named columns, with a caption."""

    columns: list
    rows: list = field(default_factory=list)
    caption: str = ""

    def add(self, *values) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} values, got {len(values)}")
        self.rows.append(list(values))

    def column(self, name: str) -> np.ndarray:
        i = self.columns.index(name)
        return np.array([r[i] for r in self.rows])

    def to_markdown(self) -> str:
        lines = [f"**{self.caption}**", ""] if self.caption else []
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---:" for _ in self.columns) + "|")
        lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in self.rows]
        return "\n".join(lines)

    def to_latex(self) -> str:
        escape = lambda s: str(s).replace("_", r"\_").replace("%", r"\%")
        lines = [r"\begin{table}[ht]", r"\centering", r"\begin{tabular}{" + "r" * len(self.columns) + "}",
                 r"\toprule", " & ".join(escape(c) for c in self.columns) + r" \\", r"\midrule"]
        lines += [" & ".join(escape(_fmt(v)) for v in row) + r" \\" for row in self.rows]
        lines += [r"\bottomrule", r"\end{tabular}"]
        if self.caption:
            lines.append(r"\caption{" + escape(self.caption) + "}")
        lines.append(r"\end{table}")
        return "\n".join(lines)

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows([[repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in row]
                          for row in self.rows])
        return buf.getvalue()

    def emit(self, stem: str | None = None) -> str:
        """Return the Markdown; with ``stem`` also write ``stem.tex`` and ``stem.csv`` atomically."""
        if stem:
            for suffix, text in ((".tex", self.to_latex()), (".csv", self.to_csv())):
                write_text_atomic(stem + suffix, text)
        return self.to_markdown()


def write_text_atomic(path: str, text: str) -> None:
    """Write through a temporary file in the same folder, then rename into place."""
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write(text)


def script_parser(doc: str, out: str = "results/tables") -> argparse.ArgumentParser:
    """The options every table script shares: --quick (CI size), --out, and Dask."""
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--out", default=out, help=f"folder for the .tex, .csv and figure files (default {out})")
    parser.add_argument("--workers", type=int, default=1, help="run the studies on a local Dask cluster")
    parser.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    return parser
