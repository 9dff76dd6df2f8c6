"""Triggers: when a pipeline should run again (schedule, new data, drift, decay)."""
