"""jupyter_mlops: notebook cells as pipeline steps, extracted, run and tracked."""

__version__ = "0.1.0"
