"""``medscrub detectors``: which detectors are available, and what is missing."""

from __future__ import annotations

import argparse
from typing import Any

from medscrub.detectors import detector_status

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register the sub-command."""
    parser = commands.add_parser("detectors", help="list detectors and whether they can run")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per detector; 1 if any is unavailable."""
    status = detector_status()
    for name, available, reason in status:
        print(f"{name}: available" if available else f"{name}: unavailable \u2014 {reason}")
    return 0 if all(available for _, available, _ in status) else 1
