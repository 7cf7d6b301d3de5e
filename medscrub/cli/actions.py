"""``medscrub actions``: print the action every Table E.1-1 row gets."""

from __future__ import annotations

import argparse
from typing import Any

from medscrub.cli.options import add_profile_arguments, profile_from_args
from medscrub.dicom.actions import describe_actions

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register the sub-command."""
    parser = commands.add_parser("actions", help="list the action for each attribute")
    add_profile_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per row: tag, action, attribute name."""
    profile = profile_from_args(args)
    for tag, name, action in describe_actions(profile):
        print(f"{tag:<22} {action}  {' '.join(name.split())}")
    return 0
