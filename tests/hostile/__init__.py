"""Hostile-input suite (issue 8). A package, so its test file names may repeat those of other folders."""
