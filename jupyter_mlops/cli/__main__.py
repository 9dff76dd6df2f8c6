"""``python -m jupyter_mlops.cli``: the same as the ``jupyter-mlops`` command."""

import sys

from jupyter_mlops.cli.main import main

sys.exit(main())
