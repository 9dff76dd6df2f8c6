"""MLflow records: the tracking store, run recording, git info and run history."""
