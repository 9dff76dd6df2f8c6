"""JupyterLab server configuration for the end-to-end tests (started by Playwright).

Never use it for anything else: it turns off authentication and exposes the app object
to the page (galata drives JupyterLab through it).
"""

import os
import tempfile

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

# Each test session serves a fresh folder; galata puts each test in its own subfolder.
os.environ.setdefault("JUPYTERLAB_GALATA_ROOT_DIR", tempfile.mkdtemp(prefix="mlops-ui-tests-"))
configure_jupyter_server(c)

c.ServerApp.ip = "127.0.0.1"
c.ServerApp.allow_root = True  # CI and the dev machines run as root
c.ServerApp.log_level = "INFO"
# MLflow records of the panel's runs go into the served folder, never into the work tree.
os.environ.setdefault(
    "MLFLOW_TRACKING_URI",
    "sqlite:///" + os.path.join(os.environ["JUPYTERLAB_GALATA_ROOT_DIR"], "mlflow.db"),
)
