"""The names of the MLflow tags jupyter_mlops writes: one place, so readers and writers agree."""

PIPELINE = "mlops.pipeline"
STEP = "mlops.step"
STATUS = "mlops.status"  # running | succeeded | failed (parent); ran | cached | … (step)
ERROR = "mlops.error"
SOURCE = "mlops.source"  # pipeline (default) | notebook
NOTEBOOK = "mlops.notebook"
NOTEBOOK_HASH = "mlops.notebook_sha256"
GIT_COMMIT = "mlops.git_commit"
TOOL_VERSION = "mlops.tool_version"
MODEL_VERSION = "mlops.model_version"
CACHE_KEY = "mlops.cache_key"
CACHED_FROM_RUN = "mlops.cached_from_run"
INPUT_PREFIX = "mlops.input."
OUTPUT_PREFIX = "mlops.output."

GATE = "mlops.gate"  # on the model version and the parent run: validated | rejected
GATE_REASONS = "mlops.gate.reasons"  # the reasons, "; "-joined
GATE_CHAMPION = "mlops.gate.champion"  # on the version: the champion version compared with
REASON = "mlops.reason"  # why a run ended killed or failed (closed by a later run, a link)
MODEL_SHA256 = "mlops.model_sha256"  # on a version: the sha256 of the model's stored artifact
MODEL_SEAL = "mlops.model_seal"  # on a version: HMAC of its files (artifacts/trust.py)
# On a registered model: one tag per alias move, mlops.history.<13-digit epoch ms>.<8 hex>
# (registry/alias_history.py), and the traffic split of a served alias,
# mlops.traffic.<alias> (registry/traffic.py).
HISTORY_PREFIX = "mlops.history."
TRAFFIC_PREFIX = "mlops.traffic."
TRIGGER = "mlops.trigger"  # on a parent run a trigger started: the trigger's name
TRIGGER_KIND = "mlops.trigger.kind"  # schedule | new_data | drift | decay
TRIGGER_REASON = "mlops.trigger.reason"  # why it fired, with the measured figures
STARTED_FROM = "mlops.started_from"  # on a parent run: panel | widget | cli | ci | trigger
