"""The file edge: the one reader (read_input / open_input) and the one GC pause (gc_paused)."""

from __future__ import annotations

import gc
import json
import io
import sys
import os
import socket
import threading

import pytest

from nbdpath import labs
from nbdpath.errors import InputError
from nbdpath import cli
from nbdpath import io as nbdpath_io
from nbdpath.io import gc_paused, open_input, read_input
from nbdpath.model import load


def test_text_binary_and_the_size_cap(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"h\xc3\xa9\n")
    assert read_input(f, "note", 10) == "hé\n"
    assert read_input(f, "note", 10, binary=True) == b"h\xc3\xa9\n"
    with pytest.raises(InputError) as err:
        read_input(f, "note", 3)
    assert err.value.expected == "a note of at most 3 bytes; this one is 4 bytes"


def test_a_bad_byte_is_named_by_its_line_and_column(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_bytes(b"one\ntwo \xff\n")
    with pytest.raises(InputError) as err:
        read_input(f, "snapshot file", 100)
    assert (err.value.line, err.value.location, err.value.expected) == (2, "byte 5", "UTF-8 text")


@pytest.mark.parametrize("kind, needle", [("fifo", "not a FIFO"), ("socket", "not a socket"),
                                          ("directory", "not a directory"), ("missing", "an existing plan")])
def test_what_is_not_a_regular_file_is_refused_at_once_and_named(tmp_path, kind, needle):
    path = tmp_path / "x"
    if kind == "fifo":
        os.mkfifo(path)  # nobody writes: a blocking open would wait for ever
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
    elif kind == "directory":
        path.mkdir()
    for read in (lambda: read_input(path, "plan", 100), lambda: open_input(path, "plan")):
        with pytest.raises(InputError) as err:
            read()
        assert needle in str(err.value) and str(err.value).startswith(str(path))


def test_in_a_directory_walk_a_link_is_refused_not_followed(tmp_path):
    (tmp_path / "secret").write_text("SECRET")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "out.txt").symlink_to(tmp_path / "secret")
    fd = os.open(tmp_path / "d", os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(InputError, match="not a symbolic link"):
            read_input("out.txt", "saved output", 100, dir_fd=fd, follow_symlinks=False)
    finally:
        os.close(fd)


def test_gc_paused_nests_and_restores_across_threads():
    assert gc.isenabled()
    started, release = threading.Barrier(3), threading.Event()
    states = []

    def hold():
        with gc_paused():
            started.wait()
            release.wait()

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    started.wait()
    with gc_paused():
        states.append(gc.isenabled())
    states.append(gc.isenabled())  # the threads still hold it
    release.set()
    for t in threads:
        t.join()
    assert states == [False, False] and gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Cell:
    """A GC-tracked object to find in a generation."""


@pytest.mark.parametrize("one_command", [False, True])
def test_a_pause_freezes_what_it_built_only_for_a_one_shot_command(monkeypatch, one_command):
    # The console script (gc_for_one_command) moves a pause's objects out of the
    # collector's reach; a long-lived process (this suite, a library user) keeps them collectable.
    monkeypatch.setattr(nbdpath_io, "_gc_freeze_on_resume", False)
    gc.collect()
    frozen_before = gc.get_freeze_count()
    try:
        if one_command:
            nbdpath_io.gc_for_one_command()
        with gc_paused():
            built = [_Cell() for _ in range(1000)]
        assert gc.isenabled()
        collectable = {id(o) for o in gc.get_objects()}  # generations 0-2, not the permanent one
        assert all((id(c) in collectable) is not one_command for c in built)
        assert (gc.get_freeze_count() >= frozen_before + len(built)) is one_command
    finally:
        gc.unfreeze()


def test_the_console_script_sets_the_one_command_policy(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "gc_for_one_command", lambda: calls.append("gc"))
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 0)
    monkeypatch.setattr(cli.os, "_exit", lambda rc: calls.append(("exit", rc)))
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: None)
    monkeypatch.setattr(cli.threading, "active_count", lambda: 1)
    cli.run()
    assert calls == ["gc", "main", ("exit", 0)]


def test_the_pure_parser_leaves_the_collector_alone(monkeypatch):
    def refuse():
        raise AssertionError("parse switched the GC")

    monkeypatch.setattr(gc, "disable", refuse)
    monkeypatch.setattr(gc, "enable", refuse)
    assert load.parse(labs.text("veeam-tag-routed"), "lab").hosts


def test_writing_onto_a_character_device_writes_into_it_and_leaves_it_a_device(monkeypatch):
    import stat

    from nbdpath.io import write_atomic

    def no_rename(src, dst):  # as root a rename would replace /dev/null itself with a file
        raise AssertionError(f"renamed {src} over {dst}")

    monkeypatch.setattr(os, "replace", no_rename)
    write_atomic("/dev/null", "discarded\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_writing_onto_a_fifo_is_refused_without_waiting(tmp_path):
    from nbdpath.io import write_atomic

    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(fifo, "x")
    assert stat_is_fifo(fifo)


def stat_is_fifo(path) -> bool:
    import stat

    return stat.S_ISFIFO(os.stat(path).st_mode)


def test_a_streamed_document_reaches_a_real_stdout_whole_and_after_what_was_printed(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    with open(target, "w", encoding="utf-8") as real:
        monkeypatch.setattr(sys, "stdout", real)
        print("before", end="\n")  # still in the stream's own buffer: must come out first
        nbdpath_io.write_streamed(lambda fh: [fh.write(f"piece {i} é\n") for i in range(5000)])
        print("after")
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "before" and lines[-1] == "after"
    assert lines[1:-1] == [f"piece {i} é" for i in range(5000)]


def test_a_streamed_document_goes_to_a_stand_in_stdout_as_it_is(monkeypatch):
    capture = io.StringIO()
    monkeypatch.setattr(sys, "stdout", capture)
    nbdpath_io.write_streamed(lambda fh: fh.write("whole\n"))
    assert capture.getvalue() == "whole\n"


# ---------------------------------------------------------------- a document written by two processes

def _forks(monkeypatch, other_threads_too: bool = True) -> list[int]:
    """Counts the real forks of write_atomic_split (children leave by os._exit). A thread an
    earlier test left alive (a stalling server's) would make it write in one process, so by
    default these tests fork whatever else runs; the one about threads keeps the real check."""
    if other_threads_too:
        monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)
    seen: list[int] = []
    real = os.fork

    def fork():
        pid = real()
        if pid:
            seen.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return seen


def _halves(n: int):
    first = lambda fh: [fh.write(f"first {i} é\n") for i in range(n)]  # noqa: E731
    rest = lambda fh: [fh.write(f"rest {i}\n") for i in range(n)]  # noqa: E731
    expected = "".join(f"first {i} é\n" for i in range(n)) + "".join(f"rest {i}\n" for i in range(n))
    return first, rest, expected


def test_two_halves_written_by_two_processes_make_the_one_document(tmp_path, monkeypatch):
    forks = _forks(monkeypatch)
    first, rest, expected = _halves(200_000)  # several MiB: beyond any buffer and the pipe
    target = tmp_path / "doc.json"
    target.write_text("old\n")
    nbdpath_io.write_atomic_split(target, first, rest)
    assert len(forks) == 1
    assert target.read_text(encoding="utf-8") == expected
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~nbdpath_io._umask())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json"]


def test_the_childs_disk_error_is_raised_here_and_leaves_no_file(tmp_path, monkeypatch):
    import errno

    forks = _forks(monkeypatch)

    def first(fh):
        fh.write("partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "doc.json"
    with pytest.raises(OSError) as err:
        nbdpath_io.write_atomic_split(target, first, lambda fh: fh.write("rest"))
    assert len(forks) == 1
    assert (err.value.errno, err.value.strerror) == (errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_defect_in_the_child_is_an_internal_error_here_and_leaves_no_file(tmp_path, monkeypatch):
    forks = _forks(monkeypatch)

    def first(fh):
        raise ValueError("a bug's message")

    with pytest.raises(RuntimeError, match="part of the document failed: ValueError: a bug's message"):
        nbdpath_io.write_atomic_split(tmp_path / "doc.json", first, lambda fh: fh.write("rest"))
    assert len(forks) == 1
    assert list(tmp_path.iterdir()) == []


def test_when_the_second_half_fails_the_child_is_stopped_and_no_file_is_left(tmp_path, monkeypatch):
    forks = _forks(monkeypatch)
    ended = []
    real_waitpid = os.waitpid
    monkeypatch.setattr(os, "waitpid", lambda pid, flags: ended.append(pid) or real_waitpid(pid, flags))

    def first(fh):
        import time

        time.sleep(30)  # still writing when the parent fails: killed, not waited for

    def rest(fh):
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        nbdpath_io.write_atomic_split(tmp_path / "doc.json", first, rest)
    assert forks and ended == forks
    with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
        os.waitpid(forks[0], os.WNOHANG)
    assert list(tmp_path.iterdir()) == []


def test_with_another_thread_alive_or_onto_a_device_both_halves_are_written_here(tmp_path, monkeypatch):
    forks = _forks(monkeypatch, other_threads_too=False)
    first, rest, expected = _halves(10)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        nbdpath_io.write_atomic_split(tmp_path / "doc", first, rest)
    finally:
        stop.set()
        other.join()
    assert (tmp_path / "doc").read_text(encoding="utf-8") == expected
    monkeypatch.setattr(os, "replace", lambda a, b: pytest.fail("renamed over a device"))
    nbdpath_io.write_atomic_split("/dev/null", first, rest)
    assert forks == []


def test_the_fleet_document_written_in_halves_equals_the_one_written_whole(tmp_path, monkeypatch):
    from nbdpath.render import stream

    forks = _forks(monkeypatch)
    whole, halves = tmp_path / "whole.json", tmp_path / "halves.json"
    for command in (["trace", "--lab", "all"], ["check", "--lab", "all", "--fail-on", "never"]):
        monkeypatch.setattr(stream, "HALVES_FROM_PAIRS", 10**9)
        assert cli.main([*command, "--format", "json", "-o", str(whole)]) == 0
        monkeypatch.setattr(stream, "HALVES_FROM_PAIRS", 1)
        assert cli.main([*command, "--format", "json", "-o", str(halves)]) == 0
        assert halves.read_bytes() == whole.read_bytes()
    assert len(forks) == 2


def test_without_copy_file_range_the_rest_is_appended_through_memory(tmp_path, monkeypatch):
    import errno

    forks = _forks(monkeypatch)

    def refuse(*args):
        raise OSError(errno.EXDEV, "not between these files")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    first, rest, expected = _halves(300_000)  # the rest beyond one WRITE_BUFFER read
    nbdpath_io.write_atomic_split(tmp_path / "doc", first, rest)
    assert len(forks) == 1 and (tmp_path / "doc").read_text(encoding="utf-8") == expected


def test_a_fleet_document_checks_beside_the_paths_being_written(tmp_path, monkeypatch):
    """The check runs in the command's process after the fork, while the child writes the
    paths; the findings it adds still decide the exit code and fill the document."""
    from nbdpath.commands import core
    from nbdpath.render import stream

    events: list[str] = []
    real_fork, real_check = os.fork, core.check
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)

    def fork():
        pid = real_fork()
        if pid:
            events.append("fork")
        return pid

    def check(engine, paths):
        events.append("check")
        return real_check(engine, paths)

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(core, "check", check)
    monkeypatch.setattr(stream, "HALVES_FROM_PAIRS", 1)
    out = tmp_path / "check.json"
    assert cli.main(["check", "--lab", "veeam-tag-unreachable", "--format", "json", "-o", str(out)]) == 1
    assert events == ["fork", "check"]
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["findings"] and doc["summary"]["findings"]["error"] >= 1
    events.clear()
    monkeypatch.setattr(stream, "HALVES_FROM_PAIRS", 10**9)  # one process: checked before writing
    assert cli.main(["check", "--lab", "veeam-tag-unreachable", "--format", "json", "-o", str(out)]) == 1
    assert events == ["check"]


def test_what_a_command_built_outlives_it_until_the_next_one(tmp_path):
    import weakref

    from nbdpath.commands import core

    assert cli.main(["check", "--lab", "veeam-tag-unreachable", "--format", "json", "-o", str(tmp_path / "a")]) == 1
    [report] = nbdpath_io._kept
    kept = weakref.ref(report)
    assert report.findings and core.Report is type(report)
    del report
    assert kept() is not None  # not freed as the command returned
    assert cli.main(["check", "--lab", "same-subnet-vmks", "--format", "json", "-o", str(tmp_path / "b")]) in (0, 1)
    gc.collect()
    assert kept() is None  # the next command's report took its place


_ON_STDOUT = """
import os, sys
from nbdpath import cli
from nbdpath.render import stream
stream.HALVES_FROM_PAIRS = int(sys.argv[1])
real = os.fork
def fork():
    pid = real()
    if pid:
        print("forked", file=sys.stderr)
    return pid
os.fork = fork
sys.exit(cli.main(sys.argv[2:]))
"""


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_standard_output_redirected_to_a_file_is_written_in_halves_too(tmp_path, fmt):
    """`nbdpath trace ... > out.json`, as the shell runs it: the halves go onto the file the
    shell opened, in order, after anything already written to it (>>), byte for byte the
    one-process text; a pipe is written by one process."""
    import subprocess

    def run(halves_from: int, stdout) -> str:
        proc = subprocess.run([sys.executable, "-c", _ON_STDOUT, str(halves_from), "trace", "--lab", "all",
                               "--format", fmt], stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stderr

    whole, halves = tmp_path / "whole", tmp_path / "halves"
    with open(whole, "w") as out:
        assert "forked" not in run(10**9, out)
    with open(halves, "w") as out:
        out.write("before\n")
        out.flush()
        assert "forked" in run(1, out)
    assert halves.read_bytes() == b"before\n" + whole.read_bytes()
    piped = subprocess.run([sys.executable, "-c", _ON_STDOUT, "1", "trace", "--lab", "all", "--format", fmt],
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and "forked" not in piped.stderr
    assert piped.stdout.encode() == whole.read_bytes()


# ---------------------------------------------------------------- work begun in a forked child

def test_forked_work_is_done_by_the_child_and_read_back(monkeypatch):
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)
    parent = os.getpid()
    big = b"x" * (3 << 20)  # beyond any pipe or buffer

    with nbdpath_io.Forked(lambda: str(os.getpid()).encode() + b"|" + big) as part:
        pid, _, rest = part.result().partition(b"|")
    assert int(pid) != parent and rest == big


def test_forked_work_that_fails_or_cannot_fork_is_done_here(monkeypatch):
    parent = os.getpid()
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)

    def only_here() -> bytes:
        if os.getpid() != parent:
            raise MemoryError("the child fails")
        return b"here"

    assert nbdpath_io.Forked(only_here).result() == b"here"
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: False)
    assert nbdpath_io.Forked(lambda: str(os.getpid()).encode()).result() == str(parent).encode()


@pytest.mark.parametrize("kind", ["Forked", "Sections"])
def test_a_forked_child_not_waited_for_is_stopped_on_the_way_out(kind, tmp_path, monkeypatch):
    import time

    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)
    slow = {"Forked": lambda: nbdpath_io.Forked(lambda: time.sleep(60) or b""),
            "Sections": lambda: nbdpath_io.Sections(lambda out: time.sleep(60), tmp_path)}[kind]
    with pytest.raises(KeyError):
        with slow() as part:
            child = part._pid
            assert child
            raise KeyError("the command failed meanwhile")
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # reaped already


# ---------------------------------------------------------------- further parts of a split document

def test_a_part_handed_to_another_child_lands_where_it_was_handed(tmp_path, monkeypatch):
    forks = _forks(monkeypatch)

    def rest(out):
        out.write("r1 ")
        assert nbdpath_io.fork_part(lambda o: o.write("p1 " * 100_000))  # beyond any buffer
        out.write("r2 ")
        assert nbdpath_io.fork_part(lambda o: o.write("p2 "))
        assert nbdpath_io.fork_part(lambda o: None)  # an empty part
        out.write("r3\n")

    nbdpath_io.write_atomic_split(tmp_path / "doc", lambda o: o.write("first "), rest)
    assert (tmp_path / "doc").read_text() == "first r1 " + "p1 " * 100_000 + "r2 p2 r3\n"
    assert len(forks) == 4
    assert nbdpath_io.fork_part(lambda o: pytest.fail("no split runs: nothing forked")) is False


def test_a_part_that_fails_fails_the_document(tmp_path, monkeypatch):
    import errno

    _forks(monkeypatch)

    def part(out):
        raise OSError(errno.ENOSPC, "No space left on device")

    def rest(out):
        out.write("rest")
        nbdpath_io.fork_part(part)

    with pytest.raises(OSError) as err:
        nbdpath_io.write_atomic_split(tmp_path / "doc", lambda o: o.write("first"), rest)
    assert err.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []  # no document, no temp file


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_findings_shared_with_a_child_make_the_one_document(tmp_path, monkeypatch, fmt):
    from nbdpath.render import stream

    forks = _forks(monkeypatch)
    whole, shared = tmp_path / "whole", tmp_path / "shared"
    for command in (["trace", "--lab", "all"], ["check", "--lab", "all", "--fail-on", "never"]):
        monkeypatch.setattr(stream, "HALVES_FROM_PAIRS", 10**9)
        assert cli.main([*command, "--format", fmt, "-o", str(whole)]) == 0
        monkeypatch.setattr(stream, "HALVES_FROM_PAIRS", 1)
        monkeypatch.setattr(stream, "SHARED_FINDINGS_FROM", 2)
        before = len(forks)
        assert cli.main([*command, "--format", fmt, "-o", str(shared)]) == 0
        assert len(forks) - before == 2  # the paths' child and the findings' child
        assert shared.read_bytes() == whole.read_bytes()


# ---------------------------------------------------------------- sections made by a forked child

def _sections_work(tag: str, big: int = 0):
    def work(out):
        out.say("pid", os.getpid())
        out.write(f",{tag}-a1,{tag}-a2" + "x" * big)
        out.end("a")
        out.say("count", 2)
        out.end("empty")
        out.write(f",{tag}-b1")
        out.end("b")
    return work


def _joined(halves, fh) -> None:
    for name in ("a", "empty", "b"):
        fh.write(f"[{name}:")
        listed = False
        for half in halves:
            listed = half.copy(name, fh, 0 if listed else 1) or listed
        fh.write("]")


def test_sections_made_by_a_child_are_joined_in_the_documents_order(tmp_path, monkeypatch):
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)
    parent = os.getpid()
    big = 3 << 20  # beyond any pipe or buffer
    with nbdpath_io.Sections(_sections_work("c", big), tmp_path) as first, \
            nbdpath_io.Sections(_sections_work("p"), tmp_path, fork=False) as rest:
        assert first.get("pid") != parent and first.get("count") == 2
        assert rest.get("pid") == parent
        target = tmp_path / "doc.txt"
        nbdpath_io.write_atomic_with(target, lambda fh: _joined((first, rest), fh))
        shown = io.StringIO()  # a stand-in stream (no descriptor): copied as text
        _joined((first, rest), shown)
    expected = "[a:c-a1,c-a2" + "x" * big + ",p-a1,p-a2][empty:][b:c-b1,p-b1]"
    assert target.read_text() == expected == shown.getvalue()
    assert [p.name for p in tmp_path.iterdir()] == ["doc.txt"]  # no temp file left behind


def test_sections_whose_child_fails_or_cannot_fork_are_made_here(tmp_path, monkeypatch):
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)
    parent = os.getpid()
    work = _sections_work("c")

    def fails_in_the_child(out):
        work(out)
        if os.getpid() != parent:
            raise MemoryError("the child fails after saying all")
    for made in (fails_in_the_child, work):
        with nbdpath_io.Sections(made, tmp_path) as first:
            if made is work:
                monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: False)
            out = io.StringIO()
            _joined([first], out)
            assert out.getvalue() == "[a:c-a1,c-a2][empty:][b:c-b1]"
            assert first.get("pid") == (parent if made is fails_in_the_child else first.get("pid"))
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: False)
    with nbdpath_io.Sections(work, tmp_path) as here:
        assert here.get("pid") == parent


def test_a_failure_of_the_work_itself_is_raised_here(tmp_path, monkeypatch):
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)

    def full(out):
        out.write("text")
        raise OSError(28, "No space left on device")
    with nbdpath_io.Sections(full, tmp_path) as first:
        with pytest.raises(OSError, match="No space"):
            first.done()


def test_sections_copied_onto_a_pipe_that_takes_a_little_at_a_time_arrive_whole(tmp_path, monkeypatch):
    """A plan, diff or drift made in parts written to a pipe (``| jq``): no copy_file_range there,
    and a write may be partial (a signal mid-write): every byte still arrives, in order."""
    import errno

    def refuse(*args):
        raise OSError(errno.EINVAL, "not onto a pipe")

    real_write = os.write
    monkeypatch.setattr(os, "copy_file_range", refuse)
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: False)
    text = "".join(f"line {i}\n" for i in range(50_000))

    def work(out):
        out.write(text)
        out.end("all")
    reader, writer = os.pipe()
    with nbdpath_io.Sections(work, tmp_path) as part:
        part.done()
        monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))  # 7 bytes a call
        pid = os.fork()
        if pid == 0:  # the reader, as jq would be
            os.close(writer)
            got = b""
            while chunk := os.read(reader, 65536):
                got += chunk
            os._exit(0 if got == text.encode() else 1)
        os.close(reader)
        with open(writer, "w", encoding="utf-8", closefd=True) as fh:
            assert part.copy("all", fh)
        monkeypatch.setattr(os, "write", real_write)
        _, status = os.waitpid(pid, 0)
    assert status == 0
