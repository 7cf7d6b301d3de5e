"""Tesseract, the OCR engine behind the text detector: in this process or as a program.

Two ways to reach the same engine and models:

* **in process** through ``tesserocr`` (its wheels carry libtesseract): the
  model is loaded once per process and an image is handed over as a buffer.
  A small image then costs milliseconds, not the ~0.3 s of starting a
  program and loading the model again.
* **as a program** through ``pytesseract``, where ``tesserocr`` is not
  installed: the ``tesseract`` binary is started for every image.

Both read the language data of the installed ``tesseract`` (the
``tesseract-ocr`` system package), found from ``$TESSDATA_PREFIX`` or from
what ``tesseract --list-langs`` reports. Tesseract's own threads are limited
to one (``OMP_THREAD_LIMIT=1`` unless already set): the crops it reads are
small, and worker processes already use every core.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["OcrWord", "engine_name", "ocr_missing", "read_words"]

_PSM_SINGLE_COLUMN = 4  # page segmentation: one column of text lines of varying sizes
_LANG = "eng"
_LIST_LANGS = re.compile(r'"([^"]+)"')


@dataclass(frozen=True, slots=True)
class OcrWord:
    """One word Tesseract read: its text, confidence (0..100) and box in image pixels."""

    text: str
    conf: float
    left: int
    top: int
    width: int
    height: int


def ocr_missing() -> list[str]:
    """What must be installed before text can be read (empty when ready)."""
    missing = []
    if shutil.which("tesseract") is None:
        missing.append(
            "apt-get install tesseract-ocr (macOS: brew install tesseract; "
            "Windows: the UB Mannheim installer, then add it to PATH)"
        )
    if find_spec("tesserocr") is None and find_spec("pytesseract") is None:
        missing.append("pip install tesserocr (or pytesseract)")
    return missing


def engine_name() -> str:
    """``"tesserocr"`` (in process) or ``"pytesseract"`` (a program per image)."""
    return "tesserocr" if _tessdata() and find_spec("tesserocr") else "pytesseract"


def read_words(image: npt.NDArray[np.uint8]) -> Iterator[OcrWord]:
    """Read a 2-D uint8 image (dark text on white): the words found, with their boxes."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    if engine_name() == "tesserocr":
        yield from _in_process(os.getpid()).words(np.ascontiguousarray(image))
    else:
        yield from _by_program(image)


@functools.cache
def _tessdata() -> str:
    """The folder of Tesseract's language data ('' when not found)."""
    prefix = os.environ.get("TESSDATA_PREFIX", "")
    if prefix and os.path.isfile(os.path.join(prefix, f"{_LANG}.traineddata")):
        return prefix
    program = shutil.which("tesseract")
    if program is None:
        return ""
    try:
        listing = subprocess.run([program, "--list-langs"], capture_output=True, text=True,
                                 timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    found = _LIST_LANGS.search(listing.stdout + listing.stderr)
    folder = found.group(1) if found else ""
    return folder if os.path.isfile(os.path.join(folder, f"{_LANG}.traineddata")) else ""


class _TesserocrEngine:
    """One loaded Tesseract model in this process."""

    def __init__(self) -> None:
        import tesserocr

        self._tesserocr = tesserocr
        self._api = tesserocr.PyTessBaseAPI(
            path=_tessdata(), lang=_LANG, psm=_PSM_SINGLE_COLUMN, oem=tesserocr.OEM.LSTM_ONLY
        )
        self._api.SetVariable("tessedit_do_invert", "0")  # images are already dark on white

    def words(self, image: npt.NDArray[np.uint8]) -> Iterator[OcrWord]:
        rows, cols = image.shape
        self._api.SetImageBytes(image.tobytes(), cols, rows, 1, cols)
        self._api.Recognize()
        level = self._tesserocr.RIL.WORD
        iterator = self._api.GetIterator()
        if iterator is None:
            return
        for word in self._tesserocr.iterate_level(iterator, level):
            box = word.BoundingBox(level)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            yield OcrWord(word.GetUTF8Text(level) or "", float(word.Confidence(level)),
                          x0, y0, x1 - x0, y1 - y0)


@functools.cache
def _in_process(pid: int) -> _TesserocrEngine:
    """The engine of process `pid` (a forked worker makes its own)."""
    return _TesserocrEngine()


def _by_program(image: npt.NDArray[np.uint8]) -> Iterator[OcrWord]:
    import pytesseract

    config = f"--oem 1 --psm {_PSM_SINGLE_COLUMN} -c tessedit_do_invert=0"
    data: dict[str, list[Any]] = pytesseract.image_to_data(
        image, config=config, output_type=pytesseract.Output.DICT
    )
    for text, conf, left, top, width, height in zip(
        data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"],
        strict=True,
    ):
        yield OcrWord(str(text), float(conf), int(left), int(top), int(width), int(height))
