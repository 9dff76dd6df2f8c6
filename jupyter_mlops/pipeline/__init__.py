"""The pipeline model: steps, parameters, the step graph, pipeline.yaml and the folder layout."""
