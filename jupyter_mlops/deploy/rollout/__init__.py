"""Progressive rollouts: strategies as phases, the analysis of each window, the runner."""
