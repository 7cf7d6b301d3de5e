"""Model weights medscrub ships (see PROVENANCE.md); loaded with importlib.resources."""
