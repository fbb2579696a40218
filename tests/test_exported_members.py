"""The public surface changes only on purpose (like httpx's test_exported_members): every public
name the package holds is in ``__all__``, and ``__all__`` is this list."""

import types

import nbdpath

PUBLIC = [
    "ASSUMPTIONS", "Change", "Engine", "Exit", "Finding", "Hop", "InputError", "NbdpathError", "Path", "RULES",
    "Result", "RouteAdd", "RouteRemove", "Severity", "Snapshot", "Step", "TagAdd", "TagRemove", "UsageError",
    "Verdict", "VmkRemove", "check", "dump", "json_schema", "load_file", "parse", "trace", "trace_pair",
]


def test_public_api():
    assert sorted(nbdpath.__all__) == sorted(PUBLIC)
    for name in nbdpath.__all__:
        assert getattr(nbdpath, name) is not None


def test_every_public_member_is_exported():
    # Subpackages are attributes once imported; they are namespaces, not API members.
    members = {k for k, v in vars(nbdpath).items() if not k.startswith("_") and not isinstance(v, types.ModuleType)}
    assert members == set(nbdpath.__all__), members ^ set(nbdpath.__all__)
