"""The public, stable API that generated pipeline code imports (step I/O, test helpers)."""
