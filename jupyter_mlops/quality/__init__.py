"""Data schemas, validation, drift, test fixtures and model gates."""
