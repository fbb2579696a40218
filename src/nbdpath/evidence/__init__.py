"""Evidence: captures, esxtop CSVs and backup logs as observations, and verification.

Public surface: :func:`read_evidence` (the file edge), the observation types,
and :func:`verify` (pure: snapshot + predicted paths + observations -> report).
"""

from .files import KINDS, read_evidence, sniff
from .observations import (
    CaptureInterface,
    CaptureSummary,
    ConnectFailure,
    EsxtopSummary,
    Evidence,
    LogSummary,
    NfcFlow,
    NfcTarget,
    PortRates,
    Rates,
    RateSeries,
    Skipped,
    UplinkMatch,
    to_dict,
)
from .verify import REPORT_SCHEMA, REPORT_VERSION, Carried, Check, Fact, PairCheck, VerifyReport, verify

__all__ = [
    "KINDS", "CaptureInterface", "CaptureSummary", "Carried", "Check", "ConnectFailure", "EsxtopSummary",
    "Evidence", "Fact", "LogSummary", "NfcFlow", "NfcTarget", "PairCheck", "PortRates",
    "REPORT_SCHEMA", "REPORT_VERSION", "RateSeries", "Rates", "Skipped", "UplinkMatch", "VerifyReport",
    "read_evidence", "sniff", "to_dict", "verify",
]
