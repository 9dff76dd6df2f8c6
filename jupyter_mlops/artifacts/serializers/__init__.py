"""Serializers: how step outputs are written to and read from the artifact store."""
