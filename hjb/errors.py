"""The one exception type for user mistakes.

Anything a user can get wrong (a case key, a parameter value, a grid that
cannot work) raises :class:`InputError`.  The CLI turns it into one line on
stderr and exit code 2; everything else is an internal failure (exit 1).
"""
from __future__ import annotations

import difflib


class InputError(ValueError):
    """Bad input, reported as ``key: what is wrong``."""

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)

    def __reduce__(self):  # survive pickling (Dask workers) with both fields
        return (InputError, (self.key, self.message))


def did_you_mean(word: str, choices) -> str:
    """A ``(did you mean 'x'?)`` suffix, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
