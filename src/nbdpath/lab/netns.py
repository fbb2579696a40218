"""Enter a network namespace from one thread, for a moment.

setns(2) with CLONE_NEWNET switches only the calling thread, so worker
threads can open sockets, write sysctls and read counters inside a lab
namespace without a process per action. A socket keeps the namespace it
was created in after the thread switches back. (os.setns arrives in
Python 3.12; ctypes does it on 3.11.)
"""

from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager
from typing import Iterator

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/run/netns"

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextmanager
def inside(name: str) -> Iterator[None]:
    """Run the body in netns ``name`` (this thread only), then switch back."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(os.path.join(NETNS_RUN_DIR, name), os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def write_sysctl(key: str, value: str) -> None:
    """Write one sysctl of the calling thread's namespace (call it ``inside``)."""
    with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
        f.write(value)


def read_dev_counters() -> dict[str, tuple[int, int, int, int]]:
    """Per interface (rx_bytes, rx_packets, tx_bytes, tx_packets) of this thread's namespace.

    /proc/thread-self/net/dev shows the same kernel counters as
    /sys/class/net/*/statistics, but for the thread's namespace, where
    /sys would show the namespace it was mounted in.
    """
    out = {}
    with open("/proc/thread-self/net/dev") as f:
        for line in f.readlines()[2:]:
            name, _, rest = line.partition(":")
            fields = rest.split()
            out[name.strip()] = (int(fields[0]), int(fields[1]), int(fields[8]), int(fields[9]))
    return out
