# `make run` and `make test` set everything up themselves and are safe to run again.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := node_modules/.installed

.PHONY: run test install assets lint typecheck schema clean

run: install assets .env
	$(BIN)/billing db upgrade
	$(BIN)/billing demo-data
	$(BIN)/billing serve

test: install assets lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

assets: $(ASSETS)

$(ASSETS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# A development secret for tokens and a development key for licenses, written once.
# (mode 600: the secret mints tokens for any role)
.env: | $(INSTALLED)
	$(BIN)/billing dev-env --env-file $@ --keys-dir .data/keys

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy api schema resolvers db billing examples/python

schema: install
	$(BIN)/billing export-schema --output schema.graphql

clean:
	rm -rf $(VENV) node_modules
