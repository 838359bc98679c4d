# One command per job; each is idempotent. `make run` and `make test` do all set-up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION ?= 3.10
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(PY) -m kefu.rasa_cli
MODEL := models/kefu.tar.gz
RASA_PORT ?= 5005
ACTION_PORT ?= 5055

export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export ACTION_ENDPOINT_URL ?= http://127.0.0.1:$(ACTION_PORT)/webhook
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# What the model is made of: a change to any of these retrains it.
NLU_COMPONENTS := $(addprefix kefu/nlu/,component.py text_normalizer.py dense_featurizer.py \
	linear_classifier.py context_rewriter.py intent_filter.py) kefu/context.py
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) \
	$(NLU_COMPONENTS) kefu/text.py kefu/knowledge/embeddings.py

.PHONY: help install db index train run run-actions test lint validate unit story-test nlu-test e2e bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: requirements.txt
	@bash scripts/make_venv.sh "$(VENV)" "$(PYTHON_VERSION)"
	@echo "Installing the pinned dependencies into $(VENV) (about 2 minutes on a fresh machine)..."
	$(VENV)/bin/pip install --disable-pip-version-check -qq -r requirements.txt
	@touch $@

install: $(VENV)/.installed  ## virtualenv with the pinned dependencies

db: install  ## create or upgrade the database and load the demo shop's orders
	$(PY) -m kefu.db.seed

index: db  ## import the knowledge into the FAQ table and the index (embeds only what changed)
	$(PY) -m kefu.knowledge.cli update

$(MODEL): $(TRAINING_INPUTS) | $(VENV)/.installed
	@echo "Training the assistant (model missing or older than its data, config or domain)..."
	EMBEDDER_THREADS=$$(nproc) $(RASA) train --fixed-model-name kefu --out models
	@touch $@

train: $(MODEL)  ## train the model when it is missing or stale

run-actions: db index  ## the action server alone (port 5055, ACTION_SERVER_HOST, ACTION_SERVER_SECRET)
	$(PY) -m kefu.action_server --actions actions --port $(ACTION_PORT)

run: db index train  ## start the assistant on http://localhost:5005 (REST, socket.io, web chat)
	@bash scripts/run.sh "$(PY)" "$(MODEL)" "$(RASA_PORT)" "$(ACTION_PORT)"

lint: install  ## ruff, and mypy on kefu/ and actions/ (configured in pyproject.toml)
	$(VENV)/bin/ruff check kefu actions tests benchmarks scripts longtang_sdk
	$(VENV)/bin/ruff format --check kefu actions tests benchmarks scripts longtang_sdk
	$(VENV)/bin/mypy

validate: install  ## rasa data validate, warnings are failures
	$(PY) -m kefu.validate

unit: db index train  ## pytest: unit and integration tests (the runtime ones start Rasa with the model)
	@if [ "$$CI" = true ]; then bash scripts/ensure_nginx.sh; fi
	$(PY) -m pytest tests/unit tests/integration -q

story-test: train  ## multi-turn story tests with rasa test
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
		--fail-on-prediction-errors --out results/stories

nlu-test: train  ## NLU evaluation on the held-out split, with a threshold
	$(PY) -m kefu.nlu_eval --model $(MODEL) --data tests/nlu/test_nlu.yml --out results/nlu

e2e: db index train  ## the real server over REST, socket.io, the SDK and the web chat page (headless Chromium)
	@bash scripts/ensure_chromium.sh
	$(PY) -m pytest tests/e2e -q

test: lint validate unit story-test nlu-test e2e  ## every check
	@echo "All checks passed."

bench: db index train  ## benchmarks: figures to stdout and benchmarks/results.json
	$(PY) -m benchmarks.run

clean:  ## remove the virtualenv, models and local data
	rm -rf $(VENV) models/*.tar.gz var results
