"""Export a pipeline to an orchestrator: a Kubeflow Pipelines v2 spec (``kfp_spec.py``) or an
Airflow DAG file (``airflow_dag.py``); ``steps.py`` is what both describe."""
