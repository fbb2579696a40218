"""The public surface changes only on purpose (like httpx's test_exported_members)."""

import nbdpath


def test_public_api():
    assert sorted(nbdpath.__all__) == sorted([
        "ASSUMPTIONS", "Engine", "Finding", "Hop", "InputError", "NbdpathError", "Path", "RULES", "Severity",
        "Snapshot", "Step", "UsageError", "Verdict", "check", "dump", "json_schema", "load_file", "parse", "trace",
        "trace_pair",
    ])
    for name in nbdpath.__all__:
        assert getattr(nbdpath, name) is not None
