"""Real VDDK / nbdkit / migration-tool log excerpts from public issue threads (provenance: data/wild/README.md).

One test per sample asserting what a reader of the thread would state; synthetic variants (CRLF and
CR-only line ends, which were once read as a single line; indentation; the sample pasted into a longer
log) are made from them here."""

from __future__ import annotations

import pytest

from nbdpath.commands.evidence import render_summary
from nbdpath.evidence import read_evidence
from test_wild import WILD

SAMPLES = ("velero-vsphere-118-vixDiskLib.log", "migratekit-14-nbdkit-vddk.log", "proxcenter-438-warm-migration.log",
           "proxcenter-521-warm-migration.log", "wac-318-vm-conversion.log", "cdi-nbdkit-vddk-debug.log")


def _facts(log):
    return ([(t.line, t.address, t.port, t.disk, t.compression, t.transport) for t in log.targets],
            [(f.line, f.target, f.code, f.network) for f in log.failures])


def test_velero_timed_out_connecting_to_the_host():
    log = read_evidence(WILD / "velero-vsphere-118-vixDiskLib.log")
    targets, failures = _facts(log)
    # The disk was opened over NBD with SKIPZ compression at the (redacted) host, and both connect lines failed.
    assert targets == [(10, "<esxhost>", 902, "[02PKSTESTCOM] fcd/2757d89ed32c49caab49fcb4ce22aab1.vmdk", "SKIPZ", "nbd")]
    assert failures == [(1, "<esxhost>", "connect", True), (9, "<esxhost>", "connect", True)]
    assert log.failures[0].time == "2020-07-20T12:28:41.805Z"


def test_migratekit_authd_read_errors_without_an_address():
    log = read_evidence(WILD / "migratekit-14-nbdkit-vddk.log")
    targets, failures = _facts(log)
    assert targets == []
    # "Error reading from vmware-authd socket" three times; the fourth line names no cause.
    assert failures == [(n, "", "authd read", True) for n in (1, 2, 3)]
    assert "line 1: authd read failure, no NFC target before it" in render_summary(log)


def test_proxcenter_refusal_cut_by_the_ui_is_still_a_refusal():
    log = read_evidence(WILD / "proxcenter-438-warm-migration.log")
    assert _facts(log) == ([], [(1, "", "refused", True)])


def test_proxcenter_server_refused_connection():
    log = read_evidence(WILD / "proxcenter-521-warm-migration.log")
    assert _facts(log) == ([], [(1, "", "refused", True)])
    assert "pmgr001/pmgr001.vmdk" in log.failures[0].message


def test_windows_admin_center_opens_nbd_at_the_host_name():
    log = read_evidence(WILD / "wac-318-vm-conversion.log")
    assert _facts(log) == ([(1, "vhost02.contoso.local", 902, "[DS_OS] SRV02/SRV02.vmdk", None, "nbd")], [])
    assert log.lines == 5 and log.skipped == ()


def test_cdi_nbdkit_debug_opened_nbdssl_disk():
    log = read_evidence(WILD / "cdi-nbdkit-vddk-debug.log")
    # nbdkit's vddk plugin logs the disk VDDK opened: NBDSSL to esx15.test.lan, no compression.
    assert _facts(log) == ([(2, "esx15.test.lan", 902, "[iSCSI_Datastore] test/test.vmdk", None, "nbdssl")], [])
    assert log.targets[0].scheme == "vpxa-nfcssl"


def _variants(text: str) -> dict[str, bytes]:
    return {
        "crlf": text.replace("\n", "\r\n").encode(),
        "cr only": text.replace("\n", "\r").encode(),
        "indented": "".join(f"    {line}\n" for line in text.splitlines()).encode(),
        "in a longer log": ("2020-07-20T12:00:00.000Z| host-1| I125: unrelated line\n" * 3 + text).encode(),
    }


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("variant", ["crlf", "cr only", "indented", "in a longer log"])
def test_synthetic_variants_say_the_same(tmp_path, sample, variant):
    original = read_evidence(WILD / sample)
    path = tmp_path / sample
    path.write_bytes(_variants((WILD / sample).read_text())[variant])
    changed = read_evidence(path)
    shift = 3 if variant == "in a longer log" else 0
    want_t, want_f = _facts(original)
    got_t, got_f = _facts(changed)
    assert [(n - shift, *rest) for n, *rest in got_t] == want_t
    assert [(n - shift, *rest) for n, *rest in got_f] == want_f
