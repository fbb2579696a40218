"""One error tree: every error the library raises on purpose is an NbdpathError (the CLI's exit 2)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import nbdpath
from nbdpath.apply import LiveError, SnapshotLive, execute
from nbdpath.cli import main
from nbdpath.errors import DiscoveryError, NbdpathError, RemoteError, SessionLost, SoapFault

# Control flow inside one module, caught there: never seen by a caller.
INTERNAL = {"nbdpath.apply.docfile._Refused", "nbdpath.sources.vcenter_convert.HostSkipped",
            "nbdpath.sources.esxcli_files._HeaderTooBig", "nbdpath.plan.esxcli._ParseError",
            "nbdpath.render.stream._Slow", "nbdpath.sources.vcenter_vmpages._Unsure",
            "nbdpath.sources.vcenter_tags._Unavailable"}


def _error_classes():
    for info in pkgutil.walk_packages(nbdpath.__path__, "nbdpath."):
        if info.name == "nbdpath.__main__":  # runs the CLI when imported
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == info.name:
                yield f"{cls.__module__}.{cls.__qualname__}", cls


def test_every_error_class_of_the_library_is_an_nbdpath_error():
    found = dict(_error_classes())
    assert "nbdpath.errors.LiveError" in found and "nbdpath.errors.SoapFault" in found
    outside = sorted(name for name, cls in found.items() if not issubclass(cls, NbdpathError) and name not in INTERNAL)
    assert outside == []


def test_the_remote_errors_share_one_branch_and_keep_their_old_homes():
    from nbdpath.apply import live
    from nbdpath.sources import soapxml, vcenter

    for cls in (DiscoveryError, SoapFault, SessionLost, LiveError):
        assert issubclass(cls, RemoteError)
    assert live.LiveError is LiveError and soapxml.SoapFault is SoapFault and vcenter.DiscoveryError is DiscoveryError
    fault = SoapFault("InvalidArgument", "no such NicType")
    assert (fault.kind, fault.message, str(fault)) == ("InvalidArgument", "no such NicType",
                                                       "InvalidArgument: no such NicType")


def test_a_live_error_escaping_a_command_is_one_line_and_exit_2(capsys):
    import click

    @click.command("boom-live")
    def boom_cmd():
        raise LiveError("esx01: reading the hosts failed: the server closed the connection")

    nbdpath.cli.cli.add_command(boom_cmd)
    try:
        rc = main(["boom-live"])
    finally:
        nbdpath.cli.cli.commands.pop("boom-live")
    err = capsys.readouterr().err
    assert rc == 2
    assert err == "nbdpath: error: esx01: reading the hosts failed: the server closed the connection\n"


def test_a_live_error_during_a_run_is_a_failed_step_not_bad_input(tmp_path):
    from nbdpath import labs
    from nbdpath.apply import Journal, JournalFile
    from nbdpath.apply.planfile import PlanFile, PlannedStep
    from nbdpath.changes import TagAdd

    class Refusing(SnapshotLive):
        def perform(self, change):
            raise LiveError("host refused it")

    plan = PlanFile("plan.json", "0" * 64, (PlannedStep(1, TagAdd("esx01.lab.local", "vmk0"), ()),))
    journal = JournalFile(str(tmp_path / "j.json"), Journal("plan.json", "0" * 64, "vc", "t0"))
    result = execute(plan, Refusing(labs.load("veeam-tag-routed")), journal)
    assert result.state == "rolled-back"
    assert [s.result for s in result.steps] == ["failed"]
    assert result.steps[0].note == "host refused it"
