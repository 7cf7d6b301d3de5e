"""``medscrub redact IN -o OUT``: clean a file or a folder of studies."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from medscrub.cli.options import add_profile_arguments, profile_from_args
from medscrub.errors import ProfileError
from medscrub.keys import KEY_ENV, SecretKey
from medscrub.model import FileResult, Outcome
from medscrub.pipeline import FACES_NOT_CHECKED, TEXT_NOT_CHECKED, Pipeline

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register the sub-command."""
    parser = commands.add_parser("redact", help="de-identify files or folders")
    parser.add_argument("input", metavar="IN", help="a file, or a folder walked recursively")
    parser.add_argument("-o", "--output", metavar="OUT", required=True,
                        help="output folder (not IN, not inside IN)")
    add_profile_arguments(parser)
    parser.add_argument("--key", help=f"secret key for pseudonyms, UIDs and date shifts "
                        f"(or --key-file, or ${KEY_ENV})")
    parser.add_argument("--key-file", metavar="FILE", help="read the secret key from FILE")
    parser.add_argument("--rename", action="store_true",
                        help="give outputs non-identifying names (recorded in the audit log)")
    parser.add_argument("--audit", metavar="FILE",
                        help="audit log (JSON Lines); default OUT.audit.jsonl beside OUT")
    parser.add_argument("--reid-map", metavar="FILE",
                        help="write pseudonym -> patient pairs here (mode 0600; holds PHI)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="worker processes (default: the number of cores)")
    parser.add_argument("--phi-terms", metavar="FILE",
                        help="extra identifying strings to find in burned-in text, one a line")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.set_defaults(run=run)


def _progress(quiet: bool) -> Any:
    if quiet:
        return None
    from tqdm import tqdm

    return tqdm(unit="file", disable=None, file=sys.stderr, leave=False)


def run(args: argparse.Namespace) -> int:
    """Clean IN into OUT, print a summary; 0 if every file came out clean."""
    profile = profile_from_args(args)
    key = SecretKey.resolve(args.key, args.key_file)
    terms: list[str] = []
    if args.phi_terms:
        try:
            terms = Path(args.phi_terms).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.__class__.__name__
            raise ProfileError(f"{args.phi_terms}: cannot read ({why})") from None
    pipeline = Pipeline(profile, key=key, rename=args.rename, phi_terms=terms)
    bar = _progress(args.quiet)

    def on_result(result: FileResult) -> None:
        if bar is not None:
            bar.update(1)

    try:
        summary = pipeline.run(args.input, args.output, audit=args.audit,
                               reid_map=args.reid_map, on_result=on_result,
                               jobs=max(1, args.jobs))
    finally:
        if bar is not None:
            bar.close()
    bad = [r for r in summary.results if not r.ok]
    for r in bad:
        print(f"{r.outcome.value.upper()} {r.input}: {r.reason} [stage {r.stage}]",
              file=sys.stderr)
    if args.quiet:
        return 0 if summary.ok else 1
    counts = Counter(r.outcome for r in summary.results)
    print(
        f"medscrub: {counts[Outcome.CLEANED]} cleaned, {counts[Outcome.SKIPPED]} skipped, "
        f"{counts[Outcome.FAILED]} failed, {counts[Outcome.QUARANTINED]} quarantined "
        f"in {summary.seconds:.2f} s ({summary.files_per_second:.1f} files/s)"
    )
    skipped = Counter(r.reason for r in summary.results if r.outcome is Outcome.SKIPPED)
    for reason, n in sorted(skipped.items()):
        print(f"  skipped {n}: {reason}")
    for warning in (TEXT_NOT_CHECKED, FACES_NOT_CHECKED):
        unchecked = sum(warning in r.warnings for r in summary.results)
        if unchecked:
            print(f"  warning: {unchecked} file(s): {warning}")
    if key.generated:
        print("  note: no key given; a random key was used, so pseudonyms and UIDs will not "
              f"match other runs (use --key, --key-file or ${KEY_ENV})")
    print(f"output:    {summary.output}")
    print(f"audit log: {summary.audit}")
    if args.reid_map:
        print(f"re-identification map: {args.reid_map} (holds PHI; keep it safe)")
    return 0 if summary.ok else 1
