# Relais — the two commands: `make dev` (run locally) and `make test` (everything CI runs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCAL_STAMP := $(VENV)/.installed-local
DEV_STAMP := $(VENV)/.installed-dev
# Branch coverage of chalicelib/ that make test requires: measured 85 % (see README, Tests), less a little slack.
COVERAGE_FLOOR := 82
LINTED := app.py chalicelib dev infra tests bench harness
TYPED := app.py chalicelib dev infra
export RELAIS_DATA_DIR ?= $(CURDIR)/.relais

CDK_VERSION := 2.1148.1
STAGE ?= prod
CDK_ARGS ?=
CDK = cd infra && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" CDK_DISABLE_CLI_TELEMETRY=true \
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --yes aws-cdk@$(CDK_VERSION)

NODE_STAMP := node_modules/.installed

.PHONY: recount dev dev-reset test lint generate screenshots test-unit test-app test-integration test-infra test-browser browser widget bench synth deploy clean

## What the local stack runs (requirements-local.txt): all that `make dev` installs.
$(LOCAL_STAMP): requirements.txt requirements-local.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-local.txt
	@touch $@

## Plus the test, lint, CDK and browser tooling (requirements-dev.txt): for every other target.
$(DEV_STAMP): $(LOCAL_STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check pip==26.2.1  # chalice 1.34 packages with pip < 26.3
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

## make dev: run the whole stack on 127.0.0.1 in the foreground (Ctrl-C stops it)
dev: $(LOCAL_STAMP)
	$(PY) -m dev.local_stack

## make dev-reset: forget all local data (campaigns, links, counts, generated tokens)
dev-reset:
	rm -rf "$(RELAIS_DATA_DIR)"

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## Debian's Chromium and the Inter font, and Firefox ESR, WebKitGTK's WebDriver and Xvfb for tests/browser
## (idempotent, silent when present)
browser:
	@bash scripts/ensure-browser.sh

## make lint: ruff (style, imports, bugs, complexity), mypy (types) and import-linter (the layers), configured in pyproject.toml
## and ESLint on the widget's and the pages' scripts (widget/src, widget/pages), configured in eslint.config.mjs
lint: $(DEV_STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/mypy $(TYPED)
	$(VENV)/bin/lint-imports --no-cache
	node_modules/.bin/eslint widget

## make test: install what is missing, lint, then run every test tier with branch coverage of chalicelib/,
## on TEST_WORKERS processes (pytest-xdist): most of a test's time is spent waiting on a local server
TEST_WORKERS ?= 3
test: lint $(NODE_STAMP) browser
	$(PY) -m pytest tests -n $(TEST_WORKERS) --durations=10 --cov=chalicelib --cov-branch --cov-report=term \
		--cov-fail-under=$(COVERAGE_FLOOR)

## make screenshots: rewrite docs/img/*.png (the README's pictures) from the browser tier's showcase
screenshots: $(DEV_STAMP) $(NODE_STAMP) browser
	RELAIS_SCREENSHOTS=1 $(PY) -m pytest tests/browser -m screenshots

## One tier each: unit (pure logic: no moto, no app, no network), app (the app in-process on
## moto's in-memory DynamoDB), integration (the real local stack over HTTP), infra, browser
test-unit: $(DEV_STAMP)
	$(PY) -m pytest tests/unit tests/test_layout.py

test-app: $(DEV_STAMP)
	$(PY) -m pytest tests/app

test-integration: $(DEV_STAMP)
	$(PY) -m pytest tests/integration

test-infra: $(DEV_STAMP)
	$(PY) -m pytest tests/infra

test-browser: $(DEV_STAMP) $(NODE_STAMP) browser
	$(PY) -m pytest tests/browser

## make generate: rewrite chalicelib/store/declared.py (records, codec declarations) from the table models
generate: $(LOCAL_STAMP)
	$(PY) -m chalicelib.store.generate

## make widget: rebuild widget/widget.js (minified) from widget/src/widget.js
widget: $(NODE_STAMP)
	npm run -s build:widget

## make synth / make deploy: the AWS CDK app in infra/ (see docs/deploy.md); STAGE=prod by default
synth: $(DEV_STAMP)
	$(CDK) synth --no-notices --quiet -c stage=$(STAGE) $(CDK_ARGS)

deploy: $(DEV_STAMP)
	$(CDK) deploy --no-notices -c stage=$(STAGE) $(CDK_ARGS)

## make recount CAMPAIGN=<id> [CHECK=1] [STAGE=<stage>]: rebuild a campaign's counters from its events
## (locally against the running `make dev`; with STAGE, against that deployed stage's tables)
recount: $(LOCAL_STAMP)
	@test -n "$(CAMPAIGN)" || { echo "usage: make recount CAMPAIGN=<id> [CHECK=1] [STAGE=<stage>]"; exit 2; }
	RELAIS_STAGE=$(if $(filter command line environment,$(origin STAGE)),$(STAGE),local) \
	RELAIS_LOCAL=$(if $(filter command line environment,$(origin STAGE)),,1) \
		$(PY) -m chalicelib.aggregate.recount --campaign "$(CAMPAIGN)" $(if $(CHECK),--check)

## make bench: benchmarks, printed as ratios against a baseline measured in the same run
bench: $(DEV_STAMP) $(NODE_STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis .chalice/deployments infra/cdk.out infra/chalice.out
