# Two entry points: `make demo` cleans sample_images/, `make test` runs every check.
OUT ?= out/sample_images_clean

.PHONY: setup demo test lint samples annex

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/medscrub redact sample_images -o $(OUT) --key demo-key-not-secret-0001

lint: setup
	.venv/bin/ruff check medscrub tests tools benchmarks
	.venv/bin/mypy

test: lint
	.venv/bin/python -m pytest -q

samples: setup
	.venv/bin/python tools/make_sample_images.py sample_images

annex:
	python3 tools/gen_annex_e.py
