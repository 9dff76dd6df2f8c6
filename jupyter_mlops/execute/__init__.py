"""Running a pipeline: the runner, cache, run results, progress events and the after-run chain."""
