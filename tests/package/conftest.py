"""The package tests reuse the serving tests' helpers (service_process: new_store, register)."""

from __future__ import annotations

import sys
from pathlib import Path

SERVING = str(Path(__file__).resolve().parents[1] / "serving")
if SERVING not in sys.path:
    sys.path.insert(0, SERVING)
