"""What the command line shows on a terminal: one-line messages with control characters
escaped, and a tqdm progress bar that appears only on a terminal, after about a second."""
from __future__ import annotations

import os
import sys
import time


def printable(text: str) -> str:
    """``text`` with control characters (a stray carriage return, terminal escapes) written as
    escapes, so that a message stays one line and a stored string cannot drive the terminal."""
    return "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in str(text))


def one_line(text: str) -> str:
    return printable(text).replace("\n", "\\n")


#: Seconds before a progress bar appears (short solves show none).
PROGRESS_DELAY = float(os.environ.get("HJB_PROGRESS_DELAY", "1.0"))


def progress_bar(quiet: bool, unit: str = "step", desc: str = ""):
    """A tqdm bar on a terminal (after about a second), nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm
    bar = tqdm(total=0, unit=unit, desc=desc or None, file=sys.stderr, leave=False, delay=PROGRESS_DELAY,
               dynamic_ncols=True)

    def on_step(i, n):
        if bar.total != n:
            bar.reset(total=n)
            # show the full bar at once (tqdm would wait for its next mininterval),
            # unless the bar is still within its start-up delay
            if time.time() - bar.start_t >= PROGRESS_DELAY:
                bar.refresh()
        bar.update(i - bar.n)
    return on_step, bar
