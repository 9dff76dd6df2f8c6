# Developer entry points; GNU make. From a fresh clone: `make test`, `make demo`.
# Needs only Python 3.11, make and git; everything else goes into $(VENV).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV ?= .venv
PY = $(VENV)/bin/python
# The interpreter that creates the venv: python3.11 when there is one, else python3.
PYTHON ?= $(or $(shell command -v python3.11 2>/dev/null),$(shell command -v python3 2>/dev/null),python3)
STAMP = $(VENV)/.installed
KERNELSPEC = $(VENV)/share/jupyter/kernels/python3/kernel.json
PYTEST_ARGS ?=
DEMO_NOTEBOOK ?= notebooks/classification.ipynb
# Where `jupyter-mlops extract` writes by default: pipelines/<stem>/ next to the notebook.
DEMO_PIPELINE = $(dir $(DEMO_NOTEBOOK))pipelines/$(basename $(notdir $(DEMO_NOTEBOOK)))

export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: help venv kernel demo test lint format bench bench-serve bench-score bench-monitor clean distclean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The venv, (re)installed whenever pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The `python3` kernelspec runs this venv's interpreter (papermill, nbval and tests use it).
$(KERNELSPEC): $(STAMP)
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	touch $@

venv: $(STAMP) ## Create or update the virtualenv in $(VENV)

kernel: $(KERNELSPEC) ## Install the python3 kernelspec into $(VENV)

demo: $(KERNELSPEC) ## Extract the example notebook, run it headless, record it in MLflow
	$(VENV)/bin/jupyter-mlops show $(DEMO_NOTEBOOK)
	$(VENV)/bin/jupyter-mlops extract $(DEMO_NOTEBOOK)
	$(VENV)/bin/jupyter-mlops run $(DEMO_PIPELINE)
	@echo "Re-running: nothing changed, so every step comes from the cache:"
	$(VENV)/bin/jupyter-mlops run $(DEMO_PIPELINE)
	@echo "Promoting the validated challenger to champion, then serving it:"
	$(PY) notebooks/serve_demo.py $(DEMO_PIPELINE) --alias champion
	@echo
	@echo "Demo done. Look at:"
	@echo "  $(DEMO_NOTEBOOK)   the notebook; its %%mlstep cells are the steps"
	@echo "  $(DEMO_PIPELINE)/pipeline.yaml   steps, inputs (with producers), outputs, params"
	@echo "  $(DEMO_PIPELINE)/   the package: common module, one module per step, step notebooks, tests"
	@echo "  $(DEMO_PIPELINE)/.mlops/runs/   executed step notebooks (the run reports)"
	@echo "  $(VENV)/bin/jupyter-mlops serve MODEL --alias champion   the prediction service (docs/serving.md)"
	@echo "  mlflow.db, mlartifacts/   the MLflow store: $(VENV)/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db"

lint: $(STAMP) ## ruff check, ruff format --check, mypy, the import layers, the docs site (strict)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mkdocs build --strict

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint $(KERNELSPEC) labextension-test labextension ui-test ## Lint, panel unit tests, end-to-end UI tests, then pytest (extra arguments: PYTEST_ARGS='-k show -x'), then test-examples
	$(VENV)/bin/pytest -q --durations=25 $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-examples

# Each example notebook as CI checks it: extract into build/examples/<stem>/ with a gates
# section, `check` (green right after extraction), a gated headless run (a fresh MLflow store,
# so the thresholds alone decide; it writes schemas and captures fixtures), `check` again
# (schemas, fixtures and gates are the user's), then the generated tests on the fixtures.
EXAMPLES ?= classification regression
EXAMPLES_DIR = build/examples
MLOPS = $(VENV)/bin/jupyter-mlops
GATES_classification = gates:\n  metrics:\n    accuracy: {min: 0.9}\n    roc_auc: {min: 0.95}\n
GATES_regression = gates:\n  metrics:\n    ridge_metrics.r2: {min: 0.25}\n    forest_metrics.rmse: {max: 70, greater_is_better: false}\n

.PHONY: test-examples

test-examples: $(addprefix test-example-,$(EXAMPLES)) ## check, gated run and generated tests of each example notebook

test-example-%: $(KERNELSPEC)
	@rm -rf $(EXAMPLES_DIR)/$* $(EXAMPLES_DIR)/$*-mlflow && mkdir -p $(EXAMPLES_DIR)/$*-mlflow
	$(MLOPS) extract notebooks/$*.ipynb -o $(EXAMPLES_DIR)/$* > /dev/null
	@printf '%b' '$(GATES_$*)' >> $(EXAMPLES_DIR)/$*/pipeline.yaml
	$(MLOPS) check notebooks/$*.ipynb $(EXAMPLES_DIR)/$*
	$(MLOPS) run $(EXAMPLES_DIR)/$* --engine inprocess --fail-on-rejected \
		--tracking-uri sqlite:///$(abspath $(EXAMPLES_DIR))/$*-mlflow/mlflow.db
	$(MLOPS) check notebooks/$*.ipynb $(EXAMPLES_DIR)/$*
	$(MLOPS) test $(EXAMPLES_DIR)/$* -q -p no:cacheprovider

# End-to-end tests of the JupyterLab panel (ui-tests/: Playwright + galata) in Debian's
# Chromium, never a downloaded browser. CI runs as root with no stdin: apt-get needs no prompt.
CHROMIUM ?= /usr/bin/chromium
UI_DEPS = ui-tests/node_modules/.package-lock.json
UI_TEST_ARGS ?=
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: ui-test

$(CHROMIUM):
	$(SUDO) apt-get update
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium

$(UI_DEPS): ui-tests/package.json ui-tests/package-lock.json
	cd ui-tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

ui-test: $(KERNELSPEC) $(CHROMIUM) $(UI_DEPS) labextension ## End-to-end tests of the panel: JupyterLab in headless Chromium (UI_TEST_ARGS='-g Models')
	@$(VENV)/bin/jupyter labextension list 2>&1 | grep -q 'jupyter-mlops.*enabled.*OK' || { \
		echo "the jupyter-mlops labextension is not installed in $(VENV): run make venv"; exit 1; }
	cd ui-tests && JUPYTER=$(abspath $(VENV))/bin/jupyter CHROMIUM=$(CHROMIUM) \
		npx playwright test $(UI_TEST_ARGS) || { \
		echo "--- last lines of ui-tests/jupyter-server.log:"; tail -n 60 jupyter-server.log; exit 1; }

.PHONY: screenshots

screenshots: $(CHROMIUM) ## Re-take docs/panel-light.png, docs/panel-dark.png (the end-to-end flow test), docs/panel-{light,dark}-{1280,1920}.png (the themes test), docs/widget-panel-{light,dark}.png, docs/panel-{compare,runs}.png (the runs test) and docs/monitor-report.png
	JUPYTER_MLOPS_SCREENSHOTS=docs $(MAKE) --no-print-directory ui-test UI_TEST_ARGS="tests/pipeline-flow.spec.ts tests/themes.spec.ts tests/widget.spec.ts tests/runs.spec.ts"
	JUPYTER_MLOPS_SCREENSHOTS=docs CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest -q tests/monitor/test_report_browser.py

# The JupyterLab panel (labextension/, TypeScript): npm ci from the committed lock file, built
# into jupyter_mlops/labextension/ and copied into $(VENV) where the wheel's shared-data puts
# it. `make venv` (pip install -e) builds it too, through the hatch-jupyter-builder hook in
# pyproject.toml; `make labextension` rebuilds it after source edits.
LABEXT_DEPS = labextension/node_modules/.package-lock.json
LABEXT_SOURCES = $(wildcard labextension/src/*.ts labextension/src/*.tsx labextension/src/*/*.ts labextension/src/*/*.tsx labextension/style/* labextension/schema/*) \
	labextension/package.json labextension/tsconfig.json
LABEXT_BUILD = jupyter_mlops/labextension/package.json
LABEXT_INSTALLED = $(VENV)/share/jupyter/labextensions/jupyter-mlops

.PHONY: labextension labextension-test

$(LABEXT_DEPS): labextension/package.json labextension/package-lock.json
	cd labextension && npm ci --no-audit --no-fund
	touch $@

$(LABEXT_BUILD): $(LABEXT_DEPS) $(LABEXT_SOURCES) | $(STAMP)
	cd labextension && PATH="$(abspath $(VENV))/bin:$$PATH" npm run build:prod
	touch $@

# Copied only when the build changed (a JupyterLab may be serving the installed files).
$(LABEXT_INSTALLED)/install.json: $(LABEXT_BUILD) labextension/install.json
	rm -rf $(LABEXT_INSTALLED)
	cp -r jupyter_mlops/labextension $(LABEXT_INSTALLED)
	cp labextension/install.json $@

labextension: $(LABEXT_INSTALLED)/install.json ## Build the JupyterLab panel (npm ci, build) and install it into $(VENV)

labextension-test: $(LABEXT_DEPS) ## Panel unit tests (jest), type check, formatting check
	cd labextension && npm run lint && npm test

bench: $(KERNELSPEC) ## Run the benchmarks (benchmarks/run_all.py)
	@if [ -f benchmarks/run_all.py ]; then \
		$(PY) benchmarks/run_all.py; \
	else \
		echo "benchmarks/run_all.py does not exist yet"; \
	fi

# The serving benchmark: `jupyter mlops serve` against `mlflow models serve` on the same
# registered model, loaded by wrk (Debian's package, installed here when missing).
BENCH_SERVE_ARGS ?=

bench-serve: $(STAMP) ## Serving benchmark vs mlflow models serve, wrk load (BENCH_SERVE_ARGS='--quick')
	@command -v wrk > /dev/null || { $(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y wrk; } || { \
		echo "could not install wrk: run 'apt-get install wrk' as root, then make bench-serve"; exit 1; }
	$(PY) benchmarks/bench_serve.py $(BENCH_SERVE_ARGS)

# The scoring benchmark: `jupyter mlops score` of 1M rows into SQLite against pandas
# read_parquet + predict + to_sql in the same run, each in a fresh interpreter.
BENCH_SCORE_ARGS ?=

bench-score: $(STAMP) ## Batch scoring benchmark vs pandas + to_sql, 1M rows (BENCH_SCORE_ARGS='--quick')
	$(PY) benchmarks/bench_score.py $(BENCH_SCORE_ARGS)

# The monitoring benchmark: drift of 1M rows x 20 features against a 100k-row and a
# 1,000-row reference, next to plain scipy calls computing the same statistics.
BENCH_MONITOR_ARGS ?=

bench-monitor: $(STAMP) ## Drift monitoring benchmark vs plain scipy, 1M rows x 20 (BENCH_MONITOR_ARGS='--quick')
	$(PY) benchmarks/bench_monitor.py $(BENCH_MONITOR_ARGS)

# The Dask executor against the local one: a scheduler and two one-thread workers on this
# machine, and a moto S3 server for the --store figures (needs the dask extra: `make venv`).
BENCH_DASK_ARGS ?=

.PHONY: bench-dask
bench-dask: $(STAMP) ## Dask executor vs local: per-step overhead, 2-worker speed-up (BENCH_DASK_ARGS='--repeat 1')
	$(PY) benchmarks/bench_dask.py $(BENCH_DASK_ARGS)

# The fault and fuzz suite (tests/reliability/) at its long length, then its figures rendered
# into the README's reliability table. `make test` runs the same suite at a bounded length.
RELIABILITY_FIGURES = build/reliability-figures.json

.PHONY: reliability-table

reliability-table: $(KERNELSPEC) ## Long fault/fuzz suite (SIGKILL x20, fuzzing); writes the README's reliability table
	@mkdir -p build && rm -f $(RELIABILITY_FIGURES)
	JUPYTER_MLOPS_RELIABILITY_FIGURES=$(abspath $(RELIABILITY_FIGURES)) \
	JUPYTER_MLOPS_RELIABILITY_ROUNDS=20 JUPYTER_MLOPS_PROPERTY_EXAMPLES=2000 \
	JUPYTER_MLOPS_FUZZ_EXAMPLES=300 $(VENV)/bin/pytest -q -p no:cacheprovider tests/reliability
	$(PY) benchmarks/reliability_table.py $(RELIABILITY_FIGURES) README.md

clean: ## Remove caches, build output and extracted demo pipelines (keeps the venv and runs)
	rm -rf .pytest_cache .ruff_cache .mypy_cache build dist *.egg-info notebooks/pipelines
	rm -rf labextension/lib labextension/tsconfig.tsbuildinfo
	rm -rf ui-tests/test-results ui-tests/playwright-report ui-tests/jupyter-server.log
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		-type d -name __pycache__ -exec rm -rf {} +

distclean: clean ## clean, plus the venv and local run state (.mlops, mlruns, mlflow.db)
	rm -rf $(VENV) .mlops mlruns mlflow.db mlartifacts
	rm -rf labextension/node_modules jupyter_mlops/labextension
	rm -rf ui-tests/node_modules
