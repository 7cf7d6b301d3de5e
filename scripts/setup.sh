#!/usr/bin/env bash
# Install everything medscrub needs on a fresh Debian machine: system packages
# (tesseract-ocr, the fonts the generated test sets are drawn with) and a virtual
# environment in .venv holding exactly the packages of requirements.lock (versions and
# hashes), then medscrub itself. Safe to run again: it only changes what differs.
# `make upgrade` is the one way the locked versions move.
set -euo pipefail
cd "$(dirname "$0")/.."

# tesseract for burned-in text; fonts for the generated burned-in text samples; Chromium
# and its driver for the test that opens the review page in a real (headless) browser;
# exiftool for the metadata dumps of the photo tests and benchmark.
SYSTEM_PACKAGES="tesseract-ocr tesseract-ocr-eng fonts-dejavu-core fonts-dejavu-extra fonts-freefont-ttf fonts-liberation fonts-liberation2 chromium chromium-driver libimage-exiftool-perl"
installed=$(dpkg-query -W -f='${Status} ${Package}\n' $SYSTEM_PACKAGES 2>/dev/null \
  | grep -c "install ok installed" || true)
if [ "$installed" -lt "$(echo $SYSTEM_PACKAGES | wc -w)" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $SYSTEM_PACKAGES >/dev/null
  else
    echo "setup: missing system packages ($SYSTEM_PACKAGES) and no root/apt-get to install them" >&2
  fi
fi

# uv, pinned with hashes, in a folder of its own (syncing .venv would remove it). Another
# platform than those hashed: install uv yourself and run `UV=/path/to/uv make setup`.
PYTHON=${PYTHON:-python3}
if [ -z "${UV:-}" ]; then
  UV=.venv-uv/bin/uv
  if [ ! -x "$UV" ] || ! cmp -s scripts/uv-requirements.txt .venv-uv/requirements.txt; then
    rm -rf .venv-uv
    "$PYTHON" -m venv .venv-uv
    .venv-uv/bin/python -m pip install -q --disable-pip-version-check --require-hashes \
      -r scripts/uv-requirements.txt
    cp scripts/uv-requirements.txt .venv-uv/requirements.txt
  fi
fi

export UV_PYTHON_DOWNLOADS=never  # use this machine's Python, never fetch one
LOCK=${LOCK:-requirements.lock}
[ -x .venv/bin/python ] || "$UV" venv -q .venv --python "$PYTHON"
# exactly the lock: anything else in .venv goes, every file's hash is checked
"$UV" pip sync -q --python .venv/bin/python --require-hashes "$LOCK"
"$UV" pip install -q --python .venv/bin/python --no-deps -e .
