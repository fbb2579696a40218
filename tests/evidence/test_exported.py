"""nbdpath.evidence's public surface changes only on purpose."""

import nbdpath.evidence as ev


def test_public_surface():
    assert sorted(ev.__all__) == sorted([
        "KINDS", "CaptureInterface", "CaptureSummary", "Carried", "Check", "ConnectFailure", "EsxtopSummary",
        "Evidence", "Fact", "LogSummary", "NfcFlow", "NfcTarget", "PairCheck", "PortRates",
        "REPORT_SCHEMA", "RateSeries", "Rates", "REPORT_VERSION", "Skipped", "UplinkMatch", "VerifyReport", "read_evidence", "sniff",
        "to_dict", "verify",
    ])
    for name in ev.__all__:
        assert getattr(ev, name) is not None
