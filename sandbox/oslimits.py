"""OS-level confinement a worker applies to itself (Linux; degrades gracefully elsewhere).

At start: no core dumps, no inherited descriptors beyond the two pipes, die with the parent
(PR_SET_PDEATHSIG), no privilege gain (PR_SET_NO_NEW_PRIVS), no file creation (RLIMIT_NOFILE
small). Before each run: RLIMIT_AS = baseline address space + `memory_mb`, RLIMIT_CPU = CPU
already used + `cpu_s`. Only soft limits move, so a later run may get a larger budget; the
script itself has no way to call setrlimit.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import resource
import signal
from pathlib import Path

__all__ = ["address_space_bytes", "clear_run_limits", "confine_process", "set_run_limits"]

_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_KEEP_FDS = 3  # stdin (requests), stdout (replies), stderr (diagnostics)
_MAX_OPEN_FILES = 64


def _prctl(option: int, value: int) -> None:
    """Best effort: prctl hardening is defence in depth, not the boundary itself."""
    # CDLL(None) is the running program, which links libc; ctypes.util.find_library would
    # shell out to ldconfig/gcc, slow and pointless in a scrubbed environment.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def confine_process() -> None:
    """Process-wide hardening; call first thing in the worker, before importing an engine."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.closerange(_KEEP_FDS, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    # The gateway may have died between fork and prctl; then nobody would kill us.
    if os.getppid() == 1:
        os._exit(1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, _MAX_OPEN_FILES), hard))
    with contextlib.suppress(OSError):
        os.chdir("/")


def address_space_bytes() -> int:
    """Current virtual memory size (VmSize) of this process, the baseline for RLIMIT_AS."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def set_run_limits(baseline_bytes: int, memory_mb: int, cpu_s: int) -> None:
    """Arm the per-run address-space and CPU caps (soft limits; the hard ones stay open)."""
    if baseline_bytes:
        cap = baseline_bytes + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    # RLIMIT_CPU counts whole seconds of the process's lifetime: round to the nearest, but
    # always leave the script at least one second.
    cpu_cap = max(math.floor(used) + 1, round(used + max(1, cpu_s)))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_cap, resource.getrlimit(resource.RLIMIT_CPU)[1]))


def clear_run_limits() -> None:
    """Lift the address-space cap between runs so the worker's own bookkeeping cannot fail."""
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
