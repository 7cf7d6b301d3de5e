"""``python -m medscrub``."""

from medscrub.cli.main import main

raise SystemExit(main())
