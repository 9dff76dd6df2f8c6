"""Model gates: the gates: section, the decision, champion re-scoring, the gate after registration."""
