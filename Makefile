# Relais — the two commands: `make dev` (run locally) and `make test` (everything CI runs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export RELAIS_DATA_DIR ?= $(CURDIR)/.relais

CDK_VERSION := 2.1148.1
STAGE ?= prod
CDK_ARGS ?=
CDK = cd infra && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" CDK_DISABLE_CLI_TELEMETRY=true \
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --yes aws-cdk@$(CDK_VERSION)

NODE_STAMP := node_modules/.installed

.PHONY: dev dev-reset test test-unit test-integration test-infra test-browser browser widget bench synth deploy clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==26.2.1  # chalice 1.34 packages with pip < 26.3
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

## make dev: run the whole stack on 127.0.0.1 in the foreground (Ctrl-C stops it)
dev: $(STAMP)
	$(PY) -m dev.stack

## make dev-reset: forget all local data (campaigns, links, counts, generated tokens)
dev-reset:
	rm -rf "$(RELAIS_DATA_DIR)"

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## Debian's Chromium and the Inter font for tests/browser (idempotent, silent when present)
browser:
	@bash scripts/ensure-browser.sh

## make test: install what is missing, then run every test tier
test: $(STAMP) $(NODE_STAMP) browser
	$(PY) -m pytest tests

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP)
	$(PY) -m pytest tests/integration

test-infra: $(STAMP)
	$(PY) -m pytest tests/infra

test-browser: $(STAMP) $(NODE_STAMP) browser
	$(PY) -m pytest tests/browser

## make widget: rebuild widget/widget.js (minified) from widget/src/widget.js
widget: $(NODE_STAMP)
	npm run -s build:widget

## make synth / make deploy: the AWS CDK app in infra/ (see docs/deploy.md); STAGE=prod by default
synth: $(STAMP)
	$(CDK) synth --no-notices --quiet -c stage=$(STAGE) $(CDK_ARGS)

deploy: $(STAMP)
	$(CDK) deploy --no-notices -c stage=$(STAGE) $(CDK_ARGS)

## make bench: benchmarks, printed as ratios against a baseline measured in the same run
bench: $(STAMP) $(NODE_STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis .chalice/deployments infra/cdk.out infra/chalice.out
