"""Executors decide where steps run (a local thread pool)."""
