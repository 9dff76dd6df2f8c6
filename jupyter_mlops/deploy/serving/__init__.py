"""The prediction service: a framework-free core (payloads, models, batching, routing,
metrics, request log) and a thin raw-ASGI app over it."""
