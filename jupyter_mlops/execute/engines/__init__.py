"""Engines decide how one step runs (in-process function call, papermill notebook)."""
