"""The ``mlflow`` deploy target: a deployment of any installed MLflow deployment plugin
(``mlflow.deployments``), with our verification and rollback around it."""
