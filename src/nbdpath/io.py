"""The file edge: atomic writes, bounded reads, and untrusted text made safe to show."""

from __future__ import annotations

import errno
import gc
import os
import stat
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Literal, Optional, TextIO, overload

from .errors import InputError
from .safetext import one_line

EXCERPT_CHARS = 60  # the most of a file's content any message quotes


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temp file in the same folder and a rename.

    A reader sees the old file or the whole new one, never half; the new file
    gets the usual permissions (0666 less the umask), not mkstemp's 0600.
    OSError (no such folder, no permission, disk full) is the caller's to word.
    """
    return write_atomic_with(path, lambda fh: fh.write(text))


# Streamed documents arrive in ~10^5 pieces; through the default 8 KiB buffer a 490 MB
# fleet JSON took 60,000 write calls and 0.9 s of CPU, through 1 MiB 0.3 s (measured).
WRITE_BUFFER = 1 << 20


def _fill_stdout(fill: Callable[[TextIO], Any],
                 split: Optional[tuple[Callable[[TextIO], Any], Callable[[TextIO], Any]]] = None) -> None:
    """``fill`` onto stdout through :data:`WRITE_BUFFER` when stdout is a real file
    descriptor; a stand-in stream (a test runner's capture) is written as it is.
    ``split``: as for :func:`write_atomic_split`, taken when stdout is a regular file
    (``> out.json``): the child writes the first half onto it, the rest follows it."""
    out = sys.stdout
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):
        fill(out)
        return
    out.flush()
    with open(fd, "w", encoding=out.encoding, errors=out.errors, buffering=WRITE_BUFFER, closefd=False) as fh:
        if split is not None and _can_fork() and stat.S_ISREG(os.fstat(fd).st_mode):
            # Not atomic, as stdout never is; nor synced: a redirect is the shell's file.
            _fill_in_two(fh, *split, None, "nbdpath-stdout.", "<stdout>", sync=False)
        else:
            fill(fh)


def write_atomic_with(path: str | Path, fill: Callable[[TextIO], Any]) -> Path:
    """:func:`write_atomic` of what ``fill(fh)`` writes piece by piece (a document too
    large to hold in memory whole); anything ``fill`` raises leaves no file behind.

    A character device (``-o /dev/null``, ``/dev/stdout``) is written in place: a rename
    would replace the device itself with a regular file (as root it can). Any other
    existing non-regular target (a FIFO, a socket) is an OSError, not waited on."""
    target = Path(path)
    mode = _mode(target, None, True)
    if mode is not None and stat.S_ISCHR(mode):
        with open(target, "w", encoding="utf-8", buffering=WRITE_BUFFER) as fh:
            fill(fh)
        return target
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise OSError(errno.EINVAL, f"not a regular file ({kind_of(mode)})", str(target))
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", buffering=WRITE_BUFFER) as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def write_streamed(fill: Callable[[TextIO], Any], output: Optional[str] = None,
                   split: Optional[tuple[Callable[[TextIO], Any], Callable[[TextIO], Any]]] = None) -> None:
    """``fill(fh)`` onto stdout, or atomically into ``output`` (an unwritable one: a usage error).

    ``split``: the same text as two halves, ``first`` then ``rest``, that
    :func:`write_atomic_split` may write in two processes: into a file ``output``, or onto
    standard output redirected to a regular file."""
    if not output:
        _fill_stdout(fill, split)
        return
    from .errors import UsageError

    try:
        if split is not None:
            write_atomic_split(output, *split)
        else:
            write_atomic_with(output, fill)
    except OSError as exc:  # missing directory, no permission: a usage error, not a traceback
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


def forks() -> bool:
    """Whether work may go to a forked child here (:func:`_can_fork`)."""
    return _can_fork()


def _can_fork() -> bool:
    # A fork copies only the calling thread: with another thread alive (a vCenter read,
    # a test runner's), a lock it held would stay held in the child. With one CPU to run
    # on, the halves would only take turns.
    return hasattr(os, "fork") and threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1


def write_atomic_split(path: str | Path, first: Callable[[TextIO], Any], rest: Callable[[TextIO], Any]) -> Path:
    """:func:`write_atomic_with` of ``first`` then ``rest``, with ``first`` written by a
    forked child while this process writes ``rest`` to a second temp file, appended
    once both are done.

    For documents of two independent halves, each of seconds of CPU, on a machine with
    a core to spare: a 10,000-host ``trace --format json`` writes its paths (1.4 s) and
    its findings (1.5 s) at once (benchmarks/README.md). The child shares the parent's
    memory copy-on-write, writes only into the output's temp file and leaves by
    ``os._exit`` (no atexit handler, no buffer of the parent flushed twice). Whatever fails
    on either side leaves no file (write_atomic_with's cleanup): an OSError of the child's
    (disk full) is raised here as such.
    Where no fork is safe (no ``os.fork``, another thread alive) or the target is not a
    regular file, both halves are written here, one after the other."""
    target = Path(path)
    mode = _mode(target, None, True)
    if not _can_fork() or (mode is not None and not stat.S_ISREG(mode)):
        return write_atomic_with(path, lambda fh: (first(fh), rest(fh)))
    directory = target.parent if str(target.parent) else Path(".")
    return write_atomic_with(path, lambda fh: _fill_in_two(fh, first, rest, directory, f".{target.name}.",
                                                           str(target), sync=True))


def _fill_in_two(fh: TextIO, first: Callable[[TextIO], Any], rest: Callable[[TextIO], Any],
                 directory: Optional[Path], prefix: str, shown: str, sync: bool) -> None:
    """``fh`` (write_atomic_with's temp file, or standard output redirected to a file)
    filled from its offset with ``first`` by a forked child, then ``rest``, written here
    meanwhile into a second temp file in ``directory`` (None: the system's). ``sync``:
    the child syncs its part before it leaves. While ``rest`` runs, :func:`fork_part`
    hands a further part to another child: its text goes before what ``rest`` writes
    after that call."""
    global _fork_part
    fh.flush()
    temps: list[tuple[int, str]] = []  # every temp file: closed and removed on the way out
    children: list[tuple[int, int]] = []  # (pid, reader of its pipe), not yet waited for
    parts: list[tuple[int, int]] = []  # each further part's temp file, and how much of the rest precedes it
    writing: list[TextIO] = []  # the rest's text file, once open

    def temp(suffix: str) -> int:
        fd, path = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
        temps.append((fd, path))
        return fd

    def spawn(fd: int, write: Callable[[TextIO], Any], sync_it: bool) -> None:
        pid, reader, writer = _fork_piped()
        if pid == 0:  # the child: its part through its own handle on the file, then leave
            _write_first_half(os.dup(fd), write, writer, fh.encoding, fh.errors, sync_it)
        os.close(writer)
        children.append((pid, reader))

    def another(write: Callable[[TextIO], Any]) -> None:
        writing[0].flush()  # what the rest wrote so far goes before the part
        fd = temp(".part.tmp")
        spawn(fd, write, False)
        parts.append((fd, os.fstat(rest_fd).st_size))

    try:
        spawn(fh.fileno(), first, sync)
        rest_fd = temp(".rest.tmp")
        outer, _fork_part = _fork_part, another
        try:
            with open(rest_fd, "w", encoding=fh.encoding, errors=fh.errors, buffering=WRITE_BUFFER,
                      closefd=False) as text:
                writing.append(text)
                rest(text)
        finally:
            _fork_part = outer
        while children:
            pid, reader = children[0]
            with os.fdopen(reader, "rb") as pipe:
                why = pipe.read(_WHY_MAX)
            _, status = os.waitpid(pid, 0)
            children.pop(0)
            if status != 0:
                _raise_child_failure(why, shown)
        # The first child's writes moved the file offset fh shares: the rest and parts go after them.
        done = 0
        for fd, cut in parts:
            _append(rest_fd, fh.fileno(), done, cut)
            _append(fd, fh.fileno())
            done = cut
        _append(rest_fd, fh.fileno(), done)
    except BaseException:
        for pid, reader in children:
            _stop(pid)
            os.close(reader)
        raise
    finally:
        for fd, path in temps:
            os.close(fd)
            _unlink(path)


# Set while a split document's rest is written (_fill_in_two): what fork_part calls.
_fork_part: Optional[Callable[[Callable[[TextIO], Any]], None]] = None


def fork_part(write: Callable[[TextIO], Any]) -> bool:
    """Inside the rest of :func:`write_atomic_split` (or a split standard output): ``write``
    this part of the text in a forked child, to stand before everything the rest writes from
    here on, and say True; elsewhere, or where no fork is safe, do nothing and say False
    (the caller writes it itself). A fleet's findings are shared so: half by a child, once
    the check has made them (render/stream.py)."""
    if _fork_part is None or not _can_fork():
        return False
    _fork_part(write)
    return True


class Forked:
    """``compute()`` (bytes) begun in a forked child at once, while this process goes on;
    :meth:`result` waits for it. For pure work of a second of CPU beside other work on a
    machine with a core to spare (history record: the snapshot's parts encoded while the
    paths are traced and checked). Where no fork is safe (:func:`_can_fork`), or the child
    fails for any reason, ``result`` computes it here: the value is the same either way.
    As a context manager, a child not waited for is stopped and reaped on the way out."""

    def __init__(self, compute: Callable[[], bytes], fork: bool = True):
        """``fork``: False computes it here, when asked (work too small to be worth a process)."""
        self._compute = compute
        self._pid = 0
        if not fork or not _can_fork():
            return
        fd, tmp = tempfile.mkstemp(prefix="nbdpath-part.", suffix=".tmp")
        _unlink(tmp)  # only the descriptor holds it: nothing to clean up by name
        try:
            pid = _fork()
        except OSError:
            os.close(fd)
            return
        if pid == 0:
            code = 1
            try:
                gc.disable()  # as _write_first_half: no pass over the parent's shared pages
                data = compute()
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                code = 0
            except BaseException:  # the parent computes it again and says what went wrong
                pass
            finally:
                os._exit(code)
        self._pid, self._fd = pid, fd

    def result(self) -> bytes:
        if not self._pid:
            return self._compute()
        pid, self._pid = self._pid, 0
        try:
            _, status = os.waitpid(pid, 0)
            if status != 0:
                return self._compute()
            size = os.fstat(self._fd).st_size
            chunks, offset = [], 0
            while offset < size:
                chunk = os.pread(self._fd, size - offset, offset)
                if not chunk:
                    break
                chunks.append(chunk)
                offset += len(chunk)
            return b"".join(chunks)
        finally:
            os.close(self._fd)

    def __enter__(self) -> "Forked":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pid:
            _stop(self._pid)
            self._pid = 0
            os.close(self._fd)


class Sections:
    """Text that ``work(out)`` writes section by section into an unlinked temp file, in a
    forked child begun at once (``fork``) or here when first asked; each section then copied
    onto the document being written, in whatever order the document wants them.

    ``out`` is a :class:`SectionWriter`: ``out.write(text)``, ``out.end(name)`` (the text
    since the last end is section ``name``), ``out.say(key, value)`` (a small JSON value
    the other side may need early: a count). :meth:`get` waits for a value, :meth:`copy`
    for the whole work. For a document made of two halves of the hosts, each of seconds of
    CPU (a whole-fleet plan: commands/whatif.py): the child makes the first hosts' sections
    while this process makes the others'. Where no fork is safe, or the child fails for any
    reason, the work runs here instead, once: the text is the same either way (a failure
    that is the work's own, a full disk, is raised here as such)."""

    def __init__(self, work: Callable[["SectionWriter"], Any], directory: Optional[str | Path] = None,
                 fork: bool = True):
        self._work = work
        self._directory = directory
        self._values: dict[str, Any] = {}
        self._ends: dict[str, tuple[int, int]] = {}
        self._fd = -1  # the text's file once the work is done
        self._pid = 0
        self._pipe: Optional[BinaryIO] = None
        if fork and _can_fork():
            self._begin()

    def _temp(self) -> int:
        fd, tmp = tempfile.mkstemp(prefix=".nbdpath-sections.", suffix=".tmp", dir=self._directory)
        _unlink(tmp)  # only the descriptor holds it: nothing to clean up by name
        return fd

    def _begin(self) -> None:
        fd = self._temp()
        try:
            pid, reader, writer = _fork_piped()
        except OSError:
            os.close(fd)
            return
        if pid == 0:  # the child: its sections into the file, its values and ends into the pipe
            code = 1
            try:
                os.close(reader)
                gc.disable()  # as _write_first_half: no pass over the parent's shared pages
                global _fork_part
                _fork_part = None
                out = SectionWriter(fd, lambda key, value: _send(writer, key, value))
                self._work(out)
                out.close()
                code = 0
            except BaseException:  # the parent runs the work again and says what went wrong
                pass
            finally:
                os._exit(code)
        os.close(writer)
        self._pid, self._fd, self._pipe = pid, fd, os.fdopen(reader, "rb")

    def _here(self) -> None:
        """The work, in this process (no child, or the child failed)."""
        self._stop_child()
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = self._temp()
        self._ends.clear()
        out = SectionWriter(self._fd, self._values.__setitem__, self._ends)
        self._work(out)
        out.close()

    def _read_one(self) -> bool:
        """The child's next message taken in; False once there is none (it has ended)."""
        assert self._pipe is not None
        line = self._pipe.readline()
        if not line.endswith(b"\n"):
            return False
        import json

        key, value = json.loads(line)
        if key == "\0end":
            self._ends[value[0]] = (value[1], value[2])
        else:
            self._values[key] = value
        return True

    def _finish_child(self) -> None:
        """Everything the child says read, the child reaped; its work again here if it failed."""
        while self._read_one():
            pass
        pid, self._pid = self._pid, 0
        assert self._pipe is not None
        self._pipe.close()
        self._pipe = None
        _, status = os.waitpid(pid, 0)
        if status != 0:
            self._here()

    def get(self, key: str) -> Any:
        """The value the work said under ``key`` (waiting for it)."""
        if self._pid:
            while key not in self._values and self._read_one():
                pass
            if key not in self._values:
                self._finish_child()
        elif self._fd < 0:
            self._here()
        return self._values[key]

    def done(self) -> None:
        """The whole work done (waiting for the child)."""
        if self._pid:
            self._finish_child()
        elif self._fd < 0:
            self._here()

    def copy(self, name: str, fh: TextIO, skip: int = 0) -> bool:
        """Section ``name`` (less its first ``skip`` bytes) onto ``fh`` at its end; whether it had any text."""
        self.done()
        start, end = self._ends[name]
        start += skip
        if start >= end:
            return False
        try:
            fd = fh.fileno()
        except (AttributeError, OSError, ValueError):
            fd = -1
        if fd >= 0 and (fh.encoding or "").lower().replace("-", "") == "utf8":
            fh.flush()
            _append(self._fd, fd, start, end)
        else:  # a stand-in stream, or another encoding: as text
            data = os.pread(self._fd, end - start, start)
            fh.write(data.decode("utf-8"))
        return True

    def _stop_child(self) -> None:
        if self._pid:
            _stop(self._pid)
            self._pid = 0
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None

    def __enter__(self) -> "Sections":
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_child()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@contextmanager
def in_halves(first: Callable[["SectionWriter", Optional[Sections]], Any],
              rest: Callable[["SectionWriter", Optional[Sections]], Any], output: Optional[str] = None,
              fork: bool = True) -> Iterator[tuple[Sections, Sections]]:
    """A document's two halves as :class:`Sections`: ``first(out, None)`` in a forked child (with
    ``fork``), ``rest(out, first_sections)`` here meanwhile (it may ask the first half's values);
    yielded once ``rest`` is done (copying the first waits for the child). Asked in the other
    order, the child's values first, the two halves would take turns. The temp files go beside
    ``output`` (None: standard output, into the system's temp folder)."""
    directory = (os.path.dirname(output) or ".") if output else None
    with Sections(lambda out: first(out, None), directory, fork) as one:
        with Sections(lambda out: rest(out, one), directory, fork=False) as two:
            two.done()
            yield one, two


class SectionWriter:
    """What a :class:`Sections` work writes through."""

    def __init__(self, fd: int, say: Callable[[str, Any], None], ends: Optional[dict] = None):
        self._fh = open(fd, "w", encoding="utf-8", buffering=WRITE_BUFFER, closefd=False)
        self._say = say
        self._ends = ends
        self._start = 0
        self.write = self._fh.write

    def end(self, name: str) -> None:
        self._fh.flush()
        offset = os.lseek(self._fh.fileno(), 0, os.SEEK_CUR)
        if self._ends is not None:
            self._ends[name] = (self._start, offset)
        else:
            self._say("\0end", [name, self._start, offset])
        self._start = offset

    def say(self, key: str, value: Any) -> None:
        self._fh.flush()
        self._say(key, value)

    def close(self) -> None:
        self._fh.close()


def _send(writer: int, key: str, value: Any) -> None:
    import json

    data = (json.dumps([key, value]) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(writer, view):]


def _fork() -> int:
    """``os.fork`` with the standard streams flushed first: text still buffered would be
    written twice, once by each process."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    return os.fork()


def _fork_piped() -> tuple[int, int, int]:
    """:func:`_fork` with a pipe for the child to speak through: (pid, reader, writer); no
    descriptor left open when the fork fails."""
    reader, writer = os.pipe()
    try:
        return _fork(), reader, writer
    except BaseException:
        os.close(reader)
        os.close(writer)
        raise


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


_WHY_MAX = 4096  # the most the child says of its failure


def _write_first_half(fd: int, first: Callable[[TextIO], Any], writer: int, encoding: str, errors: Optional[str],
                      sync: bool) -> None:
    """The forked child's whole life: never returns, never raises."""
    global _fork_part
    _fork_part = None  # the parent's parts are the parent's to hand out
    # A collection would touch every tracked object's header, copying each page the
    # parent shares; the child lives seconds and builds only strings.
    gc.disable()
    code = 1
    try:
        with os.fdopen(fd, "w", encoding=encoding, errors=errors, buffering=WRITE_BUFFER) as fh:
            first(fh)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())  # on this core, while the parent still writes
        code = 0
    except OSError as exc:
        _tell(writer, f"{exc.errno or 0}\0{exc.strerror or exc}")
    except KeyboardInterrupt:  # the parent got it too, and says so
        _tell(writer, "")
    except BaseException as exc:  # a defect: the parent words it as its own (cli.main)
        if os.environ.get("NBDPATH_DEBUG"):
            import traceback

            traceback.print_exc()
        _tell(writer, f"{type(exc).__name__}: {exc}")
    finally:
        os._exit(code)


def _tell(writer: int, why: str) -> None:
    try:
        os.write(writer, why.encode("utf-8", "replace")[:_WHY_MAX])
    except OSError:
        pass


def _raise_child_failure(why: bytes, filename: str) -> None:
    text = why.decode("utf-8", "replace")
    if "\0" in text:
        number, _, strerror = text.partition("\0")
        raise OSError(int(number) if number.isdigit() else 0, strerror, filename)
    # A defect (or a kill): cli.main words it as an internal error, as one of its own.
    raise RuntimeError(f"a process writing part of the document failed: {text or 'killed'}")


def _append(src: int, dst: int, start: int = 0, end: Optional[int] = None) -> None:
    """File ``src`` from ``start`` to ``end`` (its end) onto ``dst`` at its offset: in the
    kernel where it can, else through memory."""
    size = os.fstat(src).st_size if end is None else end
    offset = start
    try:
        while offset < size:
            n = os.copy_file_range(src, dst, size - offset, offset)
            if n == 0:
                break
            offset += n
    except (AttributeError, OSError):  # no copy_file_range, or not between these files
        pass
    while offset < size:
        chunk = os.pread(src, min(WRITE_BUFFER, size - offset), offset)
        if not chunk:
            break
        view = memoryview(chunk)
        while view:  # a pipe or terminal may take part of it (a signal mid-write)
            view = view[os.write(dst, view):]
        offset += len(chunk)


def _stop(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


# ---------------------------------------------------------------- showing untrusted text


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A quoted, escaped excerpt of untrusted content: at most ``limit`` characters of it."""
    cut = text[:limit]
    return repr(cut) + ("..." if len(text) > limit else "")


def size_text(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            value = n / (1 << shift)
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


# ---------------------------------------------------------------- bounded reads


def kind_of(mode: int) -> str:
    """What a non-regular file is, for a message ("a FIFO", "a character device", ...)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


@overload
def read_input(path: str | Path, what: str, limit: int, *, binary: Literal[False] = False,
               shown: Optional[str] = None, dir_fd: Optional[int] = None, follow_symlinks: bool = True) -> str: ...
@overload
def read_input(path: str | Path, what: str, limit: int, *, binary: Literal[True],
               shown: Optional[str] = None, dir_fd: Optional[int] = None, follow_symlinks: bool = True) -> bytes: ...


def read_input(path: str | Path, what: str, limit: int, *, binary: bool = False, shown: Optional[str] = None,
               dir_fd: Optional[int] = None, follow_symlinks: bool = True) -> str | bytes:
    """The whole content of regular file ``path``: the one reader of every file nbdpath is given.

    Refused, each as one :class:`InputError` naming ``shown`` (default: ``path``)
    and the ``what`` it should have been: a missing or unreadable file; a FIFO,
    device, socket or directory, from ``fstat`` after a non-blocking open (a
    FIFO would wait for a writer, ``/dev/zero`` never ends); a file over
    ``limit`` bytes, before reading it, or one that grows past it while read
    (``/proc`` files claim size 0); with ``follow_symlinks=False`` a link
    (``O_NOFOLLOW``: a check made on a directory listing cannot be raced by
    swapping in a link; with ``dir_fd``, nothing outside that directory is
    read). Text (``binary=False``) is UTF-8; a bad byte is an error at its
    line and column (counted in bytes: undecodable text has no characters).
    """
    name = shown if shown is not None else one_line(str(path))
    fd = _open_regular(path, what, name, dir_fd, follow_symlinks)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise InputError(name, "", f"a {what} of at most {size_text(limit)}; this one is {size_text(size)}")
        data = _read_fd(fd, limit, name, what)
    finally:
        os.close(fd)
    return data if binary else decode_utf8(data, name)


def open_input(path: str | Path, what: str, *, shown: Optional[str] = None) -> BinaryIO:
    """Regular file ``path`` opened to be streamed (a capture of several GiB), refused as :func:`read_input` refuses."""
    name = shown if shown is not None else one_line(str(path))
    fd = _open_regular(path, what, name, None, True)
    try:
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def decode_utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise InputError(name, f"byte {column}", "UTF-8 text", line) from None


def _mode(path: str | Path, dir_fd: Optional[int], follow_symlinks: bool) -> Optional[int]:
    try:
        return os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks).st_mode
    except OSError:
        return None


def _open_regular(path: str | Path, what: str, name: str, dir_fd: Optional[int], follow_symlinks: bool) -> int:
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise InputError(name, "", f"an existing {what}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise InputError(name, "", f"a {what}, not a symbolic link (links are not followed)") from None
        mode = _mode(path, dir_fd, follow_symlinks)  # a socket cannot even be opened: say what it is
        if mode is not None and not stat.S_ISREG(mode):
            raise InputError(name, "", f"a {what} (a regular file), not {kind_of(mode)}") from None
        raise InputError(name, "", f"a readable {what}: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise InputError(name, "", f"a readable {what}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputError(name, "", f"a {what} (a regular file), not {kind_of(mode)}")
    return fd


def _read_fd(fd: int, max_bytes: int, name: str, what: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
        except OSError as exc:
            raise InputError(name, "", f"a readable {what}: {exc.strerror}") from None
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise InputError(name, "", f"a {what} of at most {size_text(max_bytes)}; this one grew past it while read")
        chunks.append(chunk)


# ---------------------------------------------------------------- what a command built, past its return

# The running command's estate, report or plan: freeing 10^6 objects as a command's function
# returns was the one teardown left once the console script stopped tearing the heap down
# at exit (cli.run): 0.28 s of a 10,000-host `trace --format json` (py-spy), 0.2 s of an
# estimate of 100,000 VMs. One command's objects at a time: a process that runs many
# commands (the tests, a library user of cli.main) frees each as the next one starts.
_kept: list[object] = []


def keep_past_command(*objects: object) -> None:
    """Hold ``objects`` until the next command starts (:func:`forget_kept`) or the process exits."""
    _kept.extend(objects)


def forget_kept() -> None:
    """What the last command kept, let go (cli.main, as a command starts)."""
    _kept.clear()


# ---------------------------------------------------------------- the cyclic GC at the edges

_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = True
_gc_freeze_on_resume = False


def gc_for_one_command() -> None:
    """The console script's GC policy: what a pause built is never scanned again.

    Objects built while the GC was paused stay in its youngest generation, so the
    first collection after the pause walked all of them: 1.3 s of a 10,000-host
    ``trace --format json`` and 1.3 s of ``check`` went into collections that freed
    nothing (gc.callbacks, benchmarks/commands.py). A command runs once and exits, so
    each pause ends by moving what exists into the permanent generation
    (:func:`gc.freeze`); reference counting still frees it, and the GC keeps
    collecting what is built outside pauses. Cycles left unreachable inside a pause
    are kept until exit, which bounds them by that pause. Long-lived callers (the
    test suite, a library user) keep the default: collections as usual.
    """
    global _gc_freeze_on_resume
    _gc_freeze_on_resume = True
    gc.freeze()  # the imports: ~100,000 objects that live as long as the process


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a command or an adapter builds many acyclic objects.

    Loading, tracing and reading a vCenter each create ~10^6 short-lived
    objects that hold no cycles; the collector's passes over them cost 30% of
    a load and tripled a page's parse time (measured). Reference counting
    still frees them. Nested and concurrent (several vCenters read in
    threads) pauses are counted: the last one out restores the GC as it was.
    Used at the edges only, so that pure code never touches global state.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                if _gc_freeze_on_resume:
                    gc.freeze()
                gc.enable()
