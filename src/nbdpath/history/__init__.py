"""Run history: snapshots, their paths and findings over time, and what drifted between runs."""
