"""Models medscrub ships (see PROVENANCE.md); loaded with importlib.resources."""
