"""Critical sections an interrupt must not cut in two (hjb/signals.py): a numba kernel call
(its first call compiles, and an interrupt inside numba's compiler left it half built: "no
compiled object yet", exit 1, or death by the signal instead of exit 130)."""
import os
import signal
import time

import pytest

from hjb.operators.accelerator import UninterruptedKernel
from hjb.signals import uninterrupted


def test_a_kernel_call_runs_whole_then_the_interrupt_is_honoured():
    finished = []

    def kernel(x):
        os.kill(os.getpid(), signal.SIGINT)          # as if Ctrl-C came while numba compiled
        time.sleep(0.05)
        finished.append(x)
        return 2 * x

    call = UninterruptedKernel(kernel)
    with pytest.raises(KeyboardInterrupt):
        call(3)
    assert finished == [3]
    assert UninterruptedKernel(lambda x: 2 * x)(4) == 8
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler     # restored


def test_sigterm_is_deferred_too():
    previous = signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        with pytest.raises(KeyboardInterrupt):
            with uninterrupted():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                reached = True
        assert reached
    finally:
        signal.signal(signal.SIGTERM, previous)
