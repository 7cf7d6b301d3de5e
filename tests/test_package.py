"""What the installed package holds: the library, without the generators tests use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import medscrub

_IMPORT_ALL = """
import importlib, pkgutil, sys
import medscrub
for module in pkgutil.walk_packages(medscrub.__path__, "medscrub."):
    if module.name != "medscrub.__main__":  # runs the command line
        importlib.import_module(module.name)
print(" ".join(sorted(name for name in sys.modules
                      if name.split(".")[0] in ("medscrub_testing", "skimage", "pytest"))))
"""


def test_the_package_ships_no_generator_and_imports_none() -> None:
    package = Path(medscrub.__file__).parent
    names = {p.stem for p in package.rglob("*.py")}
    assert not names & {"samples", "textset", "faceset", "photoset"}
    done = subprocess.run([sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == ""
