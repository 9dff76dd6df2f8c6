"""Notebook to pipeline model: the notebook file, the %%mlstep line, cell analysis, dependencies."""
