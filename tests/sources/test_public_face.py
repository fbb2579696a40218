"""The package's public names change only on purpose."""

import nbdpath.sources as sources


def test_public_names():
    assert sorted(sources.__all__) == [
        "ConnectOptions", "Credentials", "Discovery", "DiscoveryError", "discover", "import_hosts", "merge",
        "parse_dns_flag", "parse_merge", "parse_node_flag", "write_snapshot",
    ]
    for name in sources.__all__:
        assert getattr(sources, name) is not None


def test_credentials_never_show_the_password():
    creds = sources.Credentials("admin", "hunter2-secret")
    assert "hunter2-secret" not in repr(creds) and "hunter2-secret" not in str(creds)
