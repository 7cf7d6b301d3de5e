# Two entry points: `make demo` cleans sample_images/, `make test` runs every check.
OUT ?= out/sample_images_clean
UV ?= .venv-uv/bin/uv

.PHONY: setup demo test lint samples annex upgrade

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/medscrub redact sample_images -o $(OUT) --key demo-key-not-secret-0001

lint: setup
	.venv/bin/ruff check medscrub tests tools benchmarks
	.venv/bin/mypy

test: lint
	.venv/bin/python -m pytest -q

# Move every dependency to the newest version pyproject.toml allows, install it and run
# every check: commit uv.lock only if this passes.
upgrade: setup
	$(UV) lock --upgrade
	$(MAKE) test

samples: setup
	.venv/bin/python tools/make_sample_images.py sample_images

annex:
	python3 tools/gen_annex_e.py
