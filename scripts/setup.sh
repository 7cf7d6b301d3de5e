#!/usr/bin/env bash
# Install everything medscrub needs on a fresh Debian machine: system packages
# (tesseract-ocr and fonts, when they can be installed) and a virtual environment in .venv
# with medscrub and its test tools. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# tesseract for burned-in text; fonts for the generated burned-in text samples; Chromium
# and its driver for the test that opens the review page in a real (headless) browser;
# exiftool for the metadata dumps of the photo tests and benchmark.
SYSTEM_PACKAGES="tesseract-ocr tesseract-ocr-eng fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf chromium chromium-driver libimage-exiftool-perl"
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

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.medscrub-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi
