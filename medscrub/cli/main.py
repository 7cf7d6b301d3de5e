"""The ``medscrub`` command: ``main(argv) -> exit code``.

Exit codes: 0 every file clean, 1 some files failed or were quarantined,
2 a usage, profile or recipe error (nothing was touched).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Sequence

from medscrub._version import __version__
from medscrub.cli import actions, detectors, export, redact, report, review, scan
from medscrub.errors import MedscrubError, ProfileError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="medscrub", description="De-identify medical images (DICOM) for sharing."
    )
    parser.add_argument("--version", action="version", version=f"medscrub {__version__}")
    parser.add_argument("-v", "--verbose", "--debug", action="store_true",
                        help="log progress details, and the tracebacks behind a file's reason")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (scan, redact, review, export, report, actions, detectors):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(name)s: %(message)s",
    )
    if not args.verbose:
        # pydicom reports every oddity of the files it reads, as log records and as
        # warnings, and logs each decoder's refusal with its traceback; the file's
        # one-line reason says what matters
        logging.getLogger("pydicom").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
    try:
        code: int = args.run(args)
    except ProfileError as exc:
        print(f"medscrub: error: {exc}", file=sys.stderr)
        return 2
    except MedscrubError as exc:
        print(f"medscrub: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a reader that stopped (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    raise SystemExit(main())
