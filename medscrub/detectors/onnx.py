"""The ONNX models medscrub ships (``medscrub/weights/``), run on onnxruntime."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import onnxruntime as ort

__all__ = ["model_path", "session", "unloadable"]

_sessions: dict[tuple[int, str], ort.InferenceSession] = {}


def model_path(name: str) -> Path:
    """Where the shipped model file `name` is."""
    return Path(str(resources.files("medscrub.weights").joinpath(name)))


def session(name: str) -> ort.InferenceSession:
    """An onnxruntime session for the shipped model `name`, one per process.

    A session is never shared across a fork (its thread pool does not survive one).
    It runs on the CPU with as many threads as ``OMP_THREAD_LIMIT`` allows (one in a
    medscrub worker process), else onnxruntime's default.
    """
    key = (os.getpid(), name)
    if key not in _sessions:
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: they reach the caller as exceptions
        options.intra_op_num_threads = int(os.environ.get("OMP_THREAD_LIMIT", "0") or 0)
        options.inter_op_num_threads = 1
        _sessions[key] = ort.InferenceSession(str(model_path(name)), options,
                                              providers=["CPUExecutionProvider"])
    return _sessions[key]


def unloadable(name: str) -> str:
    """Why the shipped model `name` cannot run here (``""`` when it can)."""
    if not model_path(name).is_file():
        return f"model file medscrub/weights/{name} is missing (reinstall medscrub)"
    try:
        session(name)
    except Exception as exc:  # onnxruntime raises its own classes, not exported
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        return f"onnxruntime cannot load the model ({reason})"
    return ""
