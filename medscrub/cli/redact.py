"""``medscrub redact IN -o OUT``: clean a file or a folder of studies."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections import Counter
from typing import Any

from medscrub.cli.options import add_profile_arguments, profile_from_args, read_phi_terms
from medscrub.cli.review import describe as describe_review
from medscrub.keys import KEY_ENV, SecretKey
from medscrub.limits import Limits
from medscrub.model import FileResult, Outcome
from medscrub.pipeline import FACES_NOT_CHECKED, TEXT_NOT_CHECKED, Pipeline
from medscrub.review import check_page_path, write_review

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
    parser.add_argument("--keep-paths", action="store_true",
                        help="copy file and folder names as they are (by default a name that "
                        "looks identifying, as scan flags it, gets a keyed pseudonym)")
    parser.add_argument("--audit", metavar="FILE",
                        help="audit log (JSON Lines); default OUT.audit.jsonl beside OUT")
    parser.add_argument("--reid-map", metavar="FILE",
                        help="write pseudonym -> patient pairs here (mode 0600; holds PHI)")
    parser.add_argument("--phi-terms", metavar="FILE",
                        help="extra identifying strings to find in burned-in text, one a line")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("--review", metavar="FILE",
                        help="also write an HTML review page of every output (not in OUT)")
    parser.add_argument("--review-originals", action="store_true",
                        help="add 'before' thumbnails of the inputs to the review page (it then "
                        "holds PHI)")
    scale = parser.add_argument_group("large runs")
    scale.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="worker processes (default: the number of cores; 0: in this "
                       "process, without crash isolation)")
    scale.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a Dask cluster (tcp://HOST:PORT; needs medscrub[dask]; "
                       "workers must see IN and OUT at the same paths)")
    scale.add_argument("--no-resume", dest="resume", action="store_false",
                       help="clean every file again (default: files an earlier run with the "
                       "same settings finished into OUT are checked by hash and kept)")
    defaults = Limits()
    scale.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                       help="what one file may cost; a file over a limit fails alone. "
                       + ", ".join(f"{f.name}={getattr(defaults, f.name)}"
                                   for f in dataclasses.fields(defaults)) + " (defaults)")
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
    terms = read_phi_terms(args.phi_terms)
    if args.review:
        check_page_path(args.review, args.output)
    pipeline = Pipeline(profile, key=key, rename=args.rename, keep_paths=args.keep_paths,
                        phi_terms=terms,
                        limits=Limits.parse(args.limit))
    bar = _progress(args.quiet)
    skipped: Counter[str] = Counter()
    warned: Counter[str] = Counter()

    def on_result(result: FileResult) -> None:
        if result.outcome is Outcome.SKIPPED:
            skipped[result.reason] += 1
        warned.update(result.warnings)
        if bar is not None:
            bar.update(1)

    client = None
    if args.scheduler:
        from medscrub.cluster import connect

        client = connect(args.scheduler)
    try:
        summary = pipeline.run(args.input, args.output, audit=args.audit,
                               reid_map=args.reid_map, on_result=on_result,
                               jobs=max(0, args.jobs), executor=client, resume=args.resume,
                               keep_results=False)
    finally:
        if bar is not None:
            bar.close()
        if client is not None:
            client.close()
    for r in summary.results:  # with keep_results=False: the failed and quarantined
        print(f"{r.outcome.value.upper()} {r.input}: {r.reason} [stage {r.stage}]",
              file=sys.stderr)
    page = None
    if args.review and summary.audit is not None:
        page = write_review(summary.audit, summary.output, args.review, jobs=max(1, args.jobs),
                            originals=args.input if args.review_originals else None)
    if args.quiet:
        return 0 if summary.ok else 1
    counts = summary.counts
    resumed = f", {summary.resumed} of them finished by an earlier run" if summary.resumed else ""
    print(
        f"medscrub: {counts.get('cleaned', 0)} cleaned, {counts.get('skipped', 0)} skipped, "
        f"{counts.get('failed', 0)} failed, {counts.get('quarantined', 0)} quarantined{resumed} "
        f"in {summary.seconds:.2f} s ({summary.files_per_second:.1f} files/s)"
    )
    for reason, n in sorted(skipped.items()):
        print(f"  skipped {n}: {reason}")
    for warning in (TEXT_NOT_CHECKED, FACES_NOT_CHECKED):
        if warned[warning]:
            print(f"  warning: {warned[warning]} file(s): {warning}")
    if key.generated:
        print("  note: no key given; a random key was used, so pseudonyms and UIDs will not "
              f"match other runs (use --key, --key-file or ${KEY_ENV})")
    print(f"output:    {summary.output}")
    print(f"audit log: {summary.audit}")
    if summary.report is not None:
        print(f"quarantine report: {summary.report} ({len(summary.results)} file(s) not written)")
    if args.reid_map:
        print(f"re-identification map: {args.reid_map} (holds PHI; keep it safe)")
    if page is not None:
        print(describe_review(page))
    return 0 if summary.ok else 1
