"""Named prediction services started in the background on this machine (the ``jupyter-mlops``
MLflow deployment plugin): each follows its own registry alias ``deploy-<name>``."""
