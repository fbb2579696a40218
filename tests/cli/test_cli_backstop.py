"""The last line of defence in cli.main: a defect or an exhausted interpreter ends in one line, never a traceback."""

import click
import pytest

from nbdpath import cli as cli_mod


@pytest.fixture
def boom(monkeypatch):
    """Register a throwaway command raising what the test asks for."""
    holder = {}

    @cli_mod.cli.command("boom-test")
    def _boom():
        raise holder["exc"]

    yield holder
    cli_mod.cli.commands.pop("boom-test", None)


@pytest.mark.parametrize("exc, code, needle", [
    (RecursionError("maximum recursion depth exceeded"), 2, "nested too deeply"),
    (MemoryError(), 2, "too large"),
    (KeyError("x\x1b[2Jy"), 70, "internal error: KeyError"),
])
def test_unexpected_errors_are_one_line(boom, capsys, exc, code, needle):
    boom["exc"] = exc
    assert cli_mod.main(["boom-test"]) == code
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err and "\x1b" not in err
    assert len(err.strip().splitlines()) == 1


def test_debug_env_shows_the_traceback(boom, capsys, monkeypatch):
    monkeypatch.setenv("NBDPATH_DEBUG", "1")
    boom["exc"] = ValueError("defect")
    assert cli_mod.main(["boom-test"]) == 70
    assert "Traceback" in capsys.readouterr().err


def test_usage_errors_still_exit_2(boom, capsys):
    boom["exc"] = click.UsageError("bad")
    assert cli_mod.main(["boom-test"]) == 2


@pytest.mark.parametrize("argv, needle", [
    (["trace", "--bogus"], "trace: No such option '--bogus'"),
    (["bogus"], "No such command 'bogus'"),
    (["trace", "--format", "x"], "Invalid value for '--format'"),
    (["trace", "/"], "is a directory"),
])
def test_click_usage_errors_are_one_line(capsys, argv, needle):
    assert cli_mod.main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.startswith("nbdpath: error: ")
    assert len(err.strip().splitlines()) == 1
