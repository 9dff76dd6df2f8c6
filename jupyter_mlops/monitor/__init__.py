"""Monitoring: production inputs, predictions and outcomes compared with the training reference."""
