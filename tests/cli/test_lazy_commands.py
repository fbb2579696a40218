"""The top-level group imports a command's module only when the command is used; the map
from command to module must say what the modules really register."""

import importlib
import subprocess
import sys

import click

from nbdpath import cli as cli_mod


def test_the_map_names_every_command_of_every_module():
    registered: dict[str, set[str]] = {}
    modules = {m for ms in cli_mod._COMMAND_MODULES.values() for m in ms}
    for module in sorted(modules):
        group = click.Group()
        importlib.import_module(f"nbdpath.commands.{module}").register(group)
        for name in group.commands:
            registered.setdefault(name, set()).add(module)
    mapped = {name: set(ms) for name, ms in cli_mod._COMMAND_MODULES.items()}
    # forklift adds a subcommand to discover's `import` group: it registers no top-level name.
    for name, ms in registered.items():
        assert name in mapped, f"{name} is registered by {ms} but missing from _COMMAND_MODULES"
        assert ms <= mapped[name], (name, ms, mapped[name])
    assert set(mapped) == set(registered), set(mapped) ^ set(registered)
    assert "forklift" in mapped["import"]


_SUBCOMMANDS = """
import sys, click
from nbdpath.cli import cli
ctx = click.Context(cli)
if sys.argv[1] == "all":
    cli.all_commands()
for name in sys.argv[2:]:
    cmd = cli.get_command(ctx, name)
    print(name, sorted(cmd.commands) if isinstance(cmd, click.Group) else "-")
"""


def test_a_group_looked_up_alone_has_every_subcommand():
    # Modules may add subcommands to another module's group (import forklift, import node):
    # looking the group up alone, in a fresh process, must load them too.
    groups = [n for n, c in cli_mod.cli.all_commands().items() if isinstance(c, click.Group)]
    full = subprocess.run([sys.executable, "-c", _SUBCOMMANDS, "all", *groups], capture_output=True, text=True,
                          check=True).stdout
    for name in groups:
        alone = subprocess.run([sys.executable, "-c", _SUBCOMMANDS, "one", name], capture_output=True, text=True,
                               check=True).stdout
        assert alone in full, (name, alone, full)


def test_every_command_listed_resolves():
    ctx = click.Context(cli_mod.cli)
    for name in cli_mod.cli.list_commands(ctx):
        assert cli_mod.cli.get_command(ctx, name) is not None, name
    assert cli_mod.cli.get_command(ctx, "import").get_command(ctx, "forklift") is not None


def test_a_command_imports_only_its_module():
    code = ("import sys; from nbdpath.cli import main; main(['labs', '--format', 'json']);"
            "print(sorted(m for m in sys.modules if m.startswith('nbdpath.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = out.strip().splitlines()[-1]
    assert "nbdpath.commands.catalog" in loaded
    for other in ("nbdpath.commands.history", "nbdpath.commands.lab", "nbdpath.commands.apply"):
        assert other not in loaded, loaded


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "nbdpath", "--help"], capture_output=True, text=True, check=True).stdout
    for name in cli_mod._COMMAND_MODULES:
        assert f"  {name}" in out, name


def test_the_console_script_flushes_its_output_and_keeps_the_exit_code(tmp_path):
    # run() leaves with os._exit: what was printed must still arrive whole, and the code be the command's.
    ok = subprocess.run([sys.executable, "-m", "nbdpath", "trace", "--lab", "veeam-tag-l2", "--format", "json"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    import json

    assert json.loads(ok.stdout)["kind"] == "trace"
    bad = subprocess.run([sys.executable, "-m", "nbdpath", "trace", str(tmp_path / "nosuch.json")],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.startswith("nbdpath: error: ") and bad.stderr.count("\n") == 1
