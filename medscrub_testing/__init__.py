"""Generators of test and evaluation data for medscrub: fake PHI only, never shipped.

Tests, benchmarks and tools build their inputs here, with exact ground truth:

* :mod:`medscrub_testing.samples`: the DICOM studies, photos and hostile files of
  ``sample_images/`` and the test fixtures;
* :mod:`medscrub_testing.textset`: the burned-in text evaluation set the text
  detector is tuned on;
* :mod:`medscrub_testing.overlayset`: a second, separately written set of vendor-style
  overlays on radiographs, held out (measured, never tuned on:
  ``benchmarks/bench_heldout.py``);
* :mod:`medscrub_testing.faceset`: the face evaluation set;
* :mod:`medscrub_testing.photoset`: photos carrying every metadata channel;
* :mod:`medscrub_testing.vendor`: where pydicom's and pydicom-data's real files are.

This package lives beside ``medscrub/`` in the repository and is not part of the
wheel: no module of ``medscrub`` imports it.
"""
