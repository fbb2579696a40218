"""Running the command line in-process for the hostile tests: captured streams, and a hang fails instead of stalling."""

from __future__ import annotations

import contextlib
import io
import signal

from nbdpath.cli import main


@contextlib.contextmanager
def alarm(seconds: int = 20):
    """A hang (a FIFO opened for reading, a loop) raises in the test instead of stalling the suite."""
    def fire(signum, frame):  # noqa: ARG001
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run(*argv: str) -> tuple[int, str, str]:
    """``nbdpath ARGV`` -> (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with alarm(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()
