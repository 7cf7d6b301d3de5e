"""``medscrub export IN -o OUT``: cleaned images as PNG or JPEG, ready to post."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from typing import Any

from medscrub.cli.options import add_profile_arguments, profile_from_args, read_phi_terms
from medscrub.export import FORMATS, ExportSettings, export_path
from medscrub.keys import KEY_ENV, SecretKey
from medscrub.model import FileResult

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register the sub-command."""
    parser = commands.add_parser(
        "export", help="clean DICOM images and write them as PNG or JPEG for posting",
        description="Clean every image as redact does (the share profile by default: all "
        "burned-in text, dates removed, outputs renamed), render it with the header's VOI "
        "LUT or window (or --window) and write it as a picture with no metadata at all.")
    parser.add_argument("input", metavar="IN", help="a file, or a folder walked recursively")
    parser.add_argument("-o", "--output", metavar="OUT", required=True,
                        help="output folder (not IN, not inside IN)")
    parser.add_argument("--format", dest="image_format", choices=tuple(FORMATS),
                        default="png", help="picture format (default: png)")
    parser.add_argument("--window", nargs=2, type=float, metavar=("CENTER", "WIDTH"),
                        help="window for grey images, in rescaled units such as HU "
                        "(default: the header's VOI LUT or window, else the full range)")
    parser.add_argument("--all-frames", action="store_true",
                        help="write every frame (OUT/NAME/frame0001.png ...) instead of the "
                        "middle one")
    parser.add_argument("--quality", type=_quality, default=95, metavar="Q",
                        help="JPEG quality, 1-95 (default: 95)")
    add_profile_arguments(parser, default="share")
    parser.add_argument("--rename", action="store_true",
                        help="non-identifying output names (the share profile always renames)")
    parser.add_argument("--key", help=f"secret key for pseudonyms and UIDs (or --key-file, "
                        f"or ${KEY_ENV})")
    parser.add_argument("--key-file", metavar="FILE", help="read the secret key from FILE")
    parser.add_argument("--audit", metavar="FILE",
                        help="audit log (JSON Lines); default OUT.audit.jsonl beside OUT")
    parser.add_argument("--phi-terms", metavar="FILE",
                        help="extra identifying strings to find in burned-in text, one a line")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="worker processes (default: the number of cores; 0: in this "
                        "process)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.set_defaults(run=run)


def _quality(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 95:
        raise argparse.ArgumentTypeError("must be 1..95")
    return value


def run(args: argparse.Namespace) -> int:
    """Export IN into OUT; 0 if every file came out (or was deliberately skipped)."""
    settings = ExportSettings(args.image_format, tuple(args.window) if args.window else None,
                              args.all_frames, args.quality)
    summary = export_path(
        args.input, args.output, settings=settings, profile=profile_from_args(args),
        key=SecretKey.resolve(args.key, args.key_file), rename=args.rename,
        phi_terms=read_phi_terms(args.phi_terms), audit=args.audit, jobs=max(0, args.jobs))
    bad: list[FileResult] = [r for r in summary.results if not r.ok]
    for r in bad:
        print(f"{r.outcome.value.upper()} {r.input}: {r.reason} [stage {r.stage}]",
              file=sys.stderr)
    if not args.quiet:
        counts = Counter(summary.counts)
        print(f"medscrub export: {counts['cleaned']} exported, {counts['skipped']} skipped, "
              f"{counts['failed']} failed, {counts['quarantined']} quarantined "
              f"in {summary.seconds:.2f} s")
        print(f"output:    {summary.output}")
        print(f"audit log: {summary.audit}")
        print(f"  look at every picture before posting it: medscrub review {summary.output}"
              + (f" --audit {summary.audit}" if args.audit else ""))
    return 0 if summary.ok else 1
