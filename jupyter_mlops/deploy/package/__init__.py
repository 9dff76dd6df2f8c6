"""Packages of a registered model version: an embeddable wheel, a container build context
and Kubernetes manifests (``build.py`` holds the format registry)."""
