"""Memory estimates made before large grids are allocated."""
from __future__ import annotations

import os

from .errors import InputError

#: Refuse a solve whose estimate exceeds this share of the available memory
#: (override with the environment variable HJB_MEMORY_SHARE).
DEFAULT_SHARE = 0.5


def available_bytes() -> int:
    """MemAvailable from /proc/meminfo, else free physical pages."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_memory(estimate: float, what: str, key: str = "grid") -> None:
    """Raise InputError when ``estimate`` bytes exceed the allowed share of memory."""
    share = float(os.environ.get("HJB_MEMORY_SHARE", DEFAULT_SHARE))
    limit = share * available_bytes()
    if estimate > limit:
        raise InputError(key, f"{what} needs about {estimate / 2**30:.2f} GiB, more than "
                         f"{share:.0%} of the {available_bytes() / 2**30:.1f} GiB available; "
                         "use fewer points (or raise HJB_MEMORY_SHARE)")
