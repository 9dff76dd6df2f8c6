"""Pipeline model to package: generated code, step notebooks, generated tests, the writer, sync check."""
