"""Registered model versions: logging, registration, aliases, promotion."""
