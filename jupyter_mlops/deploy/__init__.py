"""Deploy: targets, the prediction service, rollouts (strategies, analysis, rollback)."""
