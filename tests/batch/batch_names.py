"""Names the batch tests share (a module of its own: ``conftest`` is ambiguous when several
test folders have one)."""

NAME = "iris"  # version 1: depth-2 tree (production), version 2: depth-4 tree
BROKEN = "iris_broken"  # raises on the last rows
FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
