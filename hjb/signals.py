"""Critical sections that an interrupt must not cut in two.

SIGINT and SIGTERM are recorded during the section instead of acting in it, and the caller
honours them after (as KeyboardInterrupt).  Two places need it: publishing a result file
(:mod:`hjb.output.atomic`: a signal there discards the temporary file, the previous file
stays) and numba (:mod:`hjb.operators.accelerator`: an interrupt raised inside numba's
import or compiler leaves it half done, and it then fails with errors of its own, or the
process dies of the signal, instead of exiting with 130).
"""
from __future__ import annotations

import contextlib
import signal
import threading


@contextlib.contextmanager
def deferred_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Record SIGINT/SIGTERM instead of acting on them; yield the list of those received."""
    received = []
    if threading.current_thread() is not threading.main_thread():
        yield received                      # handlers can only be set in the main thread
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum)) for sig in signals}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def uninterrupted():
    """Run the block whole, then raise KeyboardInterrupt if SIGINT or SIGTERM came meanwhile."""
    with deferred_signals() as received:
        yield
    if received:
        raise KeyboardInterrupt
