"""Regenerate the deterministic sample data set.

Usage: ``python tools/make_sample_images.py [OUTDIR]`` (default ``sample_images/``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from medscrub_testing.samples import write_samples


def main(argv: list[str]) -> int:
    """Write the samples into ``argv[1]`` (or ``sample_images``)."""
    out = Path(argv[1]) if len(argv) > 1 else Path("sample_images")
    files = write_samples(out)
    total = sum(f.stat().st_size for f in files)
    for f in files:
        print(f"{f.stat().st_size:>9}  {f}")
    print(f"{len(files)} files, {total} bytes in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
