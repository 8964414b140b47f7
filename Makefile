# The two set-up commands of the README: `make run` and `make test`. Everything else is a helper.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
BRIDGE_PORT ?= 9581

.PHONY: run test setup lint typecheck pytest bench serve clean helper

setup:
	@scripts/setup.sh

run: setup
	@HOST=$(HOST) PORT=$(PORT) BRIDGE_PORT=$(BRIDGE_PORT) scripts/run.sh

test: setup lint typecheck pytest

lint:
	$(VENV)/bin/ruff check .

typecheck:
	$(VENV)/bin/mypy .

pytest:
	@scripts/test.sh

# The standalone card helper and its .deb, into dist/helper (docs/bridge-deployment.md).
helper: setup
	@scripts/build-helper.sh

# The production shape on this machine: nginx (TLS, self-signed) in front of WORKERS daphne workers,
# on https://localhost:8443/ with the demo card's bridge (docs/deployment.md). Not a set-up command.
serve: setup
	@BRIDGE_PORT=$(BRIDGE_PORT) deploy/serve.sh

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var test-output .pytest_cache .mypy_cache .ruff_cache
