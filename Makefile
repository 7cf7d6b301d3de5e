# Two entry points: `make demo` cleans sample_images/, `make test` runs every check.
OUT ?= out/sample_images_clean

.PHONY: setup bench-setup demo test lint samples annex lock upgrade docs

setup:
	@bash scripts/setup.sh

# the tools the benchmarks compare against, at the versions of requirements-bench.lock
bench-setup:
	@LOCK=requirements-bench.lock bash scripts/setup.sh

demo: setup
	.venv/bin/medscrub redact sample_images -o $(OUT) --key demo-key-not-secret-0001

lint: setup
	.venv/bin/ruff check medscrub medscrub_testing tests tools benchmarks
	.venv/bin/mypy

test: lint
	.venv/bin/python -m pytest -q

# the documentation site (mkdocs.yml, docs/) into site/; any warning fails the build
docs: setup
	NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict -d site

# after editing dependencies in pyproject.toml: pin what changed, keep every other pin
lock: setup
	bash scripts/lock.sh

# move every pin to the newest version pyproject.toml allows, install and run every check;
# commit the locks only if this passes
upgrade: setup
	bash scripts/lock.sh --upgrade
	$(MAKE) test

samples: setup
	.venv/bin/python tools/make_sample_images.py sample_images

annex:
	python3 tools/gen_annex_e.py
