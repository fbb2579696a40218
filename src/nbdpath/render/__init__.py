"""Renderings of traces and findings: terminal tables, JSON and YAML."""

from .report import OUTPUT_VERSION, Report, explain_text, findings_table, paths_table, to_json, to_yaml

__all__ = ["OUTPUT_VERSION", "Report", "explain_text", "findings_table", "paths_table", "to_json", "to_yaml"]
