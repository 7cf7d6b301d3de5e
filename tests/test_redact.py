"""The redaction kernel: exact pixels inside and outside the regions, for every dtype."""

from __future__ import annotations

import tracemalloc
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from medscrub.model import Region
from medscrub.redact import (
    _fill_mask,
    _fill_row,
    _fill_slices,
    _plan,
    _prefers_mask,
    as_frames,
    black_value,
    redact,
)

DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.float32, np.float64]
Array = npt.NDArray[Any]


def noise(shape: tuple[int, ...], dtype: Any = np.uint8, seed: int = 0) -> Array:
    """Random pixels spanning the dtype's whole range (floats: -1e6..1e6)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.uniform(-1e6, 1e6, shape).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)


def box_mask(shape: tuple[int, ...], y0: int, x0: int, y1: int, x1: int) -> Array:
    mask = np.zeros(shape[1:3], bool)
    mask[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = True
    return mask


def assert_only_changed(before: Array, after: Array, changed: Array) -> None:
    """Pixels outside `changed` ((rows, cols) or (frames, rows, cols)) are bit-exact."""
    keep = ~np.broadcast_to(changed, before.shape[:3])
    assert np.array_equal(after[keep], before[keep])


def random_boxes(count: int, rows: int, cols: int, seed: int) -> list[Region]:
    rng = np.random.default_rng(seed)
    regions = []
    for _ in range(count):
        h, w = int(rng.integers(4, 60)), int(rng.integers(4, 120))
        y, x = int(rng.integers(-10, rows - 4)), int(rng.integers(-10, cols - 4))
        regions.append(Region(y, x, y + h, x + w))
    return regions


def per_box_reference(frames: Array, regions: list[Region], fill: Any) -> Array:
    """The obvious implementation: one slice assignment per region, frame by frame."""
    expected = frames.copy()
    for r in regions:
        for i in range(frames.shape[0])[r.frames or slice(None)]:
            expected[i, max(r.y0, 0) : max(r.y1, 0), max(r.x0, 0) : max(r.x1, 0)] = fill
    return expected


# -- fill: where ---------------------------------------------------------------------


def test_box_on_every_frame_holds_the_fill_and_nothing_else_changes() -> None:
    frames = noise((6, 40, 50, 3))
    before = frames.copy()
    result = redact(frames, [Region(5, 10, 20, 30)], fill=7)
    assert np.all(result[:, 5:20, 10:30] == 7)
    assert_only_changed(before, result, box_mask(frames.shape, 5, 10, 20, 30))
    assert np.array_equal(frames, before), "input changed with out=None"


def test_per_sample_fill() -> None:
    frames = noise((2, 10, 10, 3))
    result = redact(frames, [Region(2, 2, 5, 6)], fill=(1, 2, 3))
    assert np.array_equal(result[:, 2:5, 2:6], np.broadcast_to([1, 2, 3], (2, 3, 4, 3)))


def test_default_fill_is_zero_for_every_sample() -> None:
    frames = noise((1, 8, 8, 3), np.uint16) | 1
    result = redact(frames, [Region(0, 0, 4, 4)])
    assert np.all(result[:, :4, :4] == 0) and np.all(result[:, 4:] != 0)


@pytest.mark.parametrize(
    ("frames_slice", "expected"),
    [
        (slice(3, 8), [3, 4, 5, 6, 7]),
        (slice(-3, None), [7, 8, 9]),
        (slice(None, None, 3), [0, 3, 6, 9]),
        (slice(8, 2, -2), [4, 6, 8]),
        (slice(4, 5), [4]),
        (slice(20, 30), []),
    ],
)
def test_frame_slices_pick_frames_like_python(frames_slice: slice, expected: list[int]) -> None:
    frames = noise((10, 12, 14, 1), np.int16)
    result = redact(frames, [Region(2, 3, 9, 11, frames=frames_slice)], fill=-5)
    hit = [i for i in range(10) if np.all(result[i, 2:9, 3:11] == -5)]
    assert hit == expected
    changed = np.zeros((10, 12, 14), bool)
    changed[expected, 2:9, 3:11] = True
    assert_only_changed(frames, result, changed)


def test_regions_on_different_frame_ranges_are_all_applied() -> None:
    frames = noise((5, 20, 20, 1))
    regions = [Region(0, 0, 5, 5), Region(10, 10, 15, 15, frames=slice(1, 3))]
    result = redact(frames, regions, fill=0)
    changed = np.zeros((5, 20, 20), bool)
    changed[:, :5, :5] = True
    changed[1:3, 10:15, 10:15] = True
    assert np.all(result[changed] == 0)
    assert_only_changed(frames, result, changed)


def test_mask_redacts_only_true_pixels() -> None:
    frames = noise((3, 30, 30, 3)) | 1
    mask = np.zeros((10, 12), bool)
    mask[2:8, 3:5] = True
    mask[0, 11] = True
    result = redact(frames, [Region(5, 6, 15, 18, mask=mask)], fill=0)
    changed = np.zeros((30, 30), bool)
    changed[5:15, 6:18] = mask
    assert np.all(result[:, changed] == 0)
    assert_only_changed(frames, result, changed)


@pytest.mark.parametrize("n_frames", [1, 64])  # few bytes: copyto(where=mask); many: rectangles
def test_disk_mask_with_boxes(n_frames: int) -> None:
    frames = noise((n_frames, 100, 120, 1), np.uint16) | 1
    yy, xx = np.mgrid[:80, :80]
    disk = (yy - 40) ** 2 + (xx - 40) ** 2 < 38**2
    regions = [Region(10, 20, 90, 100, mask=disk), Region(0, 0, 15, 30), Region(85, 90, 99, 119)]
    changed = box_mask(frames.shape, 0, 0, 15, 30) | box_mask(frames.shape, 85, 90, 99, 119)
    changed[10:90, 20:100] |= disk
    result = redact(frames, regions, fill=0)
    assert np.array_equal(result[..., 0] == 0, np.broadcast_to(changed, result.shape[:3]))


def test_margin_grows_boxes_and_dilates_masks() -> None:
    frames = noise((2, 30, 30, 1)) | 1
    result = redact(frames, [Region(10, 10, 12, 13)], fill=0, margin=3)
    assert_only_changed(frames, result, box_mask(frames.shape, 7, 7, 15, 16))
    assert np.all(result[:, 7:15, 7:16] == 0)

    dot = np.zeros((5, 5), bool)
    dot[2, 2] = True  # pixel (12, 12)
    result = redact(frames, [Region(10, 10, 15, 15, mask=dot)], fill=0, margin=2)
    expected = box_mask(frames.shape, 10, 10, 15, 15)  # a 5x5 square around it
    assert np.array_equal(result[0, :, :, 0] == 0, expected)


def test_boxes_are_clipped_to_the_image() -> None:
    frames = noise((2, 20, 30, 1)) | 1
    regions = [
        Region(-5, -8, 3, 4),  # top-left corner, partly outside
        Region(15, 25, 99, 99),  # bottom-right corner, partly outside
        Region(40, 40, 50, 50),  # wholly outside
        Region(-9, -9, -1, -1),  # wholly outside, negative
        Region(10, 10, 5, 15),  # inverted: empty
    ]
    result = redact(frames, regions, fill=0, margin=1)
    changed = box_mask(frames.shape, 0, 0, 4, 5) | box_mask(frames.shape, 14, 24, 20, 30)
    assert np.all(result[:, changed] == 0)
    assert_only_changed(frames, result, changed)


def test_masks_are_clipped_with_their_box() -> None:
    frames = noise((1, 10, 10, 1)) | 1
    mask = np.eye(6, dtype=bool)
    result = redact(frames, [Region(-2, -2, 4, 4, mask=mask)], fill=0)
    expected = np.zeros((10, 10), bool)
    expected[range(4), range(4)] = True  # the diagonal from (-2, -2), clipped
    assert np.array_equal(result[0, :, :, 0] == 0, expected)


def test_regions_allowed_to_stay_are_ignored() -> None:
    frames = noise((2, 10, 10, 3))
    result = redact(frames, [Region(0, 0, 10, 10, phi=False)], fill=0)
    assert np.array_equal(result, frames)


# -- dtypes and black --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("method", ["fill", "blur", "pixelate"])
def test_every_dtype_round_trips(dtype: Any, method: str) -> None:
    frames = noise((3, 24, 40, 1), dtype)
    dt = np.dtype(dtype)
    extreme = np.iinfo(dt).max if dt.kind in "iu" else 1.5e6
    box = (4, 5, 20, 35)
    result = redact(frames, [Region(*box)], method=method, fill=extreme)
    assert result.dtype == dt and result.shape == frames.shape
    assert_only_changed(frames, result, box_mask(frames.shape, *box))
    inside, original = result[:, 4:20, 5:35], frames[:, 4:20, 5:35]
    if method == "fill":
        assert np.all(inside == extreme)
    else:  # averages of the box: within its range, and flatter than the noise
        assert inside.min() >= original.min() and inside.max() <= original.max()
        assert inside.astype(np.float64).std() < 0.5 * original.astype(np.float64).std()


@pytest.mark.parametrize("dtype", [np.uint16, np.int16])
def test_black_fill_of_a_signed_monochrome2_image(dtype: Any) -> None:
    signed = np.dtype(dtype).kind == "i"
    black = black_value(dtype, "MONOCHROME2", 12, int(signed))
    assert black == ((-2048.0,) if signed else (0.0,))
    frames = noise((2, 8, 8, 1), np.int16) % 2048 if signed else noise((2, 8, 8, 1), dtype) % 4096
    result = redact(frames.astype(dtype), [Region(0, 0, 4, 4)], fill=black)
    assert np.all(result[:, :4, :4] == black[0])


@pytest.mark.parametrize(
    ("dtype", "photometric", "bits", "representation", "expected"),
    [
        (np.uint16, "MONOCHROME1", 12, 0, (4095,)),
        (np.int16, "MONOCHROME1", 12, 1, (2047,)),
        (np.uint16, "MONOCHROME2", 12, 0, (0,)),
        (np.int16, "MONOCHROME2", 16, 1, (-32768,)),
        (np.uint8, "MONOCHROME1", None, 0, (255,)),
        (np.uint8, "RGB", 8, 0, (0, 0, 0)),
        (np.uint8, "YBR_FULL", 8, 0, (0, 128, 128)),
        (np.uint8, "YBR_FULL_422", 8, 0, (0, 128, 128)),
        (np.uint8, "YBR_ICT", 8, 0, (0, 128, 128)),
        (np.uint8, "YBR_RCT", 8, 0, (0, 128, 128)),
        (np.uint8, "YBR_PARTIAL_420", 8, 0, (16, 128, 128)),
        (np.uint8, "YBR_PARTIAL_422", 8, 0, (16, 128, 128)),
        (np.uint16, "YBR_FULL", 16, 0, (0, 32768, 32768)),
        (np.uint16, "YBR_PARTIAL_422", 12, 0, (256, 2048, 2048)),
        (np.uint8, "PALETTE COLOR", 8, 0, (0,)),
        (np.float32, "MONOCHROME2", 32, 0, (0,)),
        (np.uint8, " monochrome1 ", 8, 0, (255,)),
    ],
)
def test_black_value(
    dtype: Any, photometric: str, bits: int | None, representation: int, expected: tuple[int, ...]
) -> None:
    assert black_value(dtype, photometric, bits, representation) == tuple(map(float, expected))


@pytest.mark.parametrize(
    ("dtype", "photometric", "bits", "representation"),
    [
        (np.uint8, "HSV", 8, 0),  # unknown
        (np.uint16, "MONOCHROME2", 12, 1),  # signed black in an unsigned dtype
        (np.uint8, "MONOCHROME1", 12, 0),  # more bits than the dtype holds
        (np.int8, "YBR_FULL", 8, 0),  # 128 does not fit int8
        (np.float32, "MONOCHROME1", 32, 0),  # no stored maximum
    ],
)
def test_black_value_refuses(dtype: Any, photometric: str, bits: int, representation: int) -> None:
    with pytest.raises(ValueError):
        black_value(dtype, photometric, bits, representation)


def test_monochrome1_black_fill_is_the_maximum() -> None:
    frames = noise((2, 16, 16, 1), np.uint16) % 4096
    result = redact(frames, [Region(2, 2, 6, 6)], fill=black_value(frames.dtype, "MONOCHROME1", 12))
    assert np.all(result[:, 2:6, 2:6] == 4095)


# -- blur and pixelate destroy text --------------------------------------------------


def text_image() -> tuple[Array, tuple[int, int, int, int]]:
    image = np.full((120, 420, 3), 30, np.uint8)
    cv2.putText(
        image, "DOE^JOHN 1234567", (10, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2
    )
    return image, (40, 5, 82, 405)


def ncc(a: Array, b: Array) -> float:
    x = a.astype(np.float64).ravel() - a.mean()
    y = b.astype(np.float64).ravel() - b.mean()
    norm = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / norm) if norm else 0.0


@pytest.mark.parametrize("method", ["blur", "pixelate"])
def test_blur_and_pixelate_destroy_text(method: str) -> None:
    image, (y0, x0, y1, x1) = text_image()
    frames = np.stack([image, image[:, ::-1]])  # two frames, different content
    result = redact(frames, [Region(y0, x0, y1, x1)], method=method)
    assert_only_changed(frames, result, box_mask(frames.shape, y0, x0, y1, x1))
    for before, after in zip(frames, result, strict=True):
        old, new = before[y0:y1, x0:x1], after[y0:y1, x0:x1]
        # the strokes (horizontal differences) that make the glyphs are gone
        assert ncc(np.diff(old.astype(int), axis=1), np.diff(new.astype(int), axis=1)) < 0.1
        assert (
            np.abs(np.diff(new.astype(int), axis=1)).mean()
            < 0.1 * np.abs(np.diff(old.astype(int), axis=1)).mean()
        )
        assert ncc(old, new) < 0.6
        assert new.std() < 0.35 * old.std()


@pytest.mark.parametrize("method", ["blur", "pixelate"])
def test_blur_and_pixelate_follow_the_mask(method: str) -> None:
    image, (y0, x0, y1, x1) = text_image()
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    mask[:, : (x1 - x0) // 2] = True
    frames = as_frames(image)
    result = redact(frames, [Region(y0, x0, y1, x1, mask=mask)], method=method)
    changed = np.zeros(image.shape[:2], bool)
    changed[y0:y1, x0:x1] = mask
    assert_only_changed(frames, result, changed)
    assert not np.array_equal(result[0, changed], frames[0, changed])


def test_pixelate_makes_uniform_blocks() -> None:
    frames = noise((2, 64, 64, 3))
    result = redact(frames, [Region(0, 0, 64, 64)], method="pixelate", strength=0.75)
    # block side max(8, 64 * 0.75 / 6) = 8: every 8x8 tile is one colour, its mean
    tiles = result.reshape(2, 8, 8, 8, 8, 3)
    assert np.all(tiles == tiles[:, :, :1, :, :1])
    means = frames.reshape(2, 8, 8, 8, 8, 3).mean(axis=(2, 4))
    assert np.array_equal(tiles[:, :, 0, :, 0], np.rint(means).astype(np.uint8))


def test_strength_scales_the_blur() -> None:
    image, (y0, x0, y1, x1) = text_image()
    weak = redact(as_frames(image), [Region(y0, x0, y1, x1)], method="blur", strength=0.1)
    strong = redact(as_frames(image), [Region(y0, x0, y1, x1)], method="blur", strength=2.0)
    assert strong[0, y0:y1, x0:x1].std() < weak[0, y0:y1, x0:x1].std()


# -- the two fill paths ------------------------------------------------------------


def test_200_boxes_through_the_mask_path_equal_per_box_assignment() -> None:
    frames = noise((24, 240, 320, 3), seed=3)  # large enough for the mask path's rule
    regions = random_boxes(200, 240, 320, seed=4)
    (boxes,) = _plan(regions, 24, 240, 320, 0).values()
    assert _prefers_mask(boxes, depth=24 * 3)
    regions += [
        Region(5, 5, 25, 45, frames=slice(2, 20, 3)),
        Region(100, 0, 110, 320, frames=slice(-1, None)),
    ]
    result = redact(frames, regions, fill=(10, 20, 30))
    assert np.array_equal(result, per_box_reference(frames, regions, (10, 20, 30)))


@pytest.mark.parametrize("fill_path", [_fill_slices, _fill_mask])
@pytest.mark.parametrize("count", [1, 7, 200])
def test_both_fill_paths_equal_per_box_assignment(fill_path: Any, count: int) -> None:
    frames = noise((3, 90, 130, 2), np.int16, seed=count)
    regions = random_boxes(count, 90, 130, seed=count)
    (boxes,) = _plan(regions, 3, 90, 130, 0).values()
    out = frames.copy()
    fill_path(out, boxes, _fill_row((-7, 9), out.dtype, 130, 2))
    assert np.array_equal(out, per_box_reference(frames, regions, (-7, 9)))


@pytest.mark.parametrize("count", [1, 30])
def test_mask_path_with_fragmented_masks(count: int) -> None:
    # random masks split into many runs: written through np.copyto(where=mask)
    rng = np.random.default_rng(count)
    frames = noise((2, 80, 90, 3), seed=count) | 1
    changed = np.zeros((80, 90), bool)
    regions = []
    for _ in range(count):
        y, x = int(rng.integers(0, 60)), int(rng.integers(0, 70))
        mask = rng.random((20, 20)) < 0.5
        regions.append(Region(y, x, y + 20, x + 20, mask=mask))
        changed[y : y + 20, x : x + 20] |= mask
    regions += random_boxes(count, 80, 90, seed=count)
    for r in regions[count:]:
        changed[max(r.y0, 0) : max(r.y1, 0), max(r.x0, 0) : max(r.x1, 0)] = True
    result = redact(frames, regions, fill=0)
    assert np.array_equal(result[:, :, :, 0] == 0, np.broadcast_to(changed, (2, 80, 90)))
    assert_only_changed(frames, result, changed)


# -- out, memory, as_frames, errors -------------------------------------------------


def test_out_semantics() -> None:
    frames = noise((2, 10, 10, 1))
    before = frames.copy()
    copy = redact(frames, [Region(0, 0, 5, 5)], fill=0)
    assert copy is not frames and np.array_equal(frames, before)

    same = redact(frames, [Region(0, 0, 5, 5)], fill=0, out=frames)
    assert same is frames and np.array_equal(frames, copy)

    source = before.copy()
    other = np.full_like(source, 99)
    got = redact(source, [Region(5, 5, 10, 10)], fill=0, out=other)
    assert got is other and np.array_equal(source, before)
    assert np.array_equal(other[:, :5], before[:, :5]) and np.all(other[:, 5:, 5:] == 0)

    with pytest.raises(ValueError, match="out must have"):
        redact(frames, [], out=np.empty((2, 10, 10, 1), np.uint16))


def peak_allocation(run: Any) -> int:
    """Peak bytes allocated (numpy buffers included) while `run()` runs."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fill_in_place_allocates_little() -> None:
    frames = noise((40, 512, 512, 3), seed=1)  # 31 MB
    regions = [*random_boxes(200, 512, 512, seed=2), Region(0, 0, 512, 512, frames=slice(5, 9))]
    (boxes, _) = _plan(regions, 40, 512, 512, 0).values()
    assert _prefers_mask(boxes, depth=40 * 3)
    redact(frames, regions, fill=0, out=frames)  # warm up: np.unique imports numpy.ma at first use
    # tracemalloc sees numpy's buffers: the copy made for out=None shows up
    assert peak_allocation(lambda: redact(frames, regions[:1], fill=0)) >= frames.nbytes
    for case in (regions[:1], regions):  # slice path, mask path
        for margin in (0, 3):
            peak = peak_allocation(
                lambda case=case, margin=margin: redact(
                    frames, case, fill=0, margin=margin, out=frames
                )
            )
            assert peak < 0.02 * frames.nbytes, f"{peak} bytes for a {frames.nbytes}-byte stack"


@pytest.mark.parametrize(
    ("shape", "samples_last", "expected"),
    [
        ((20, 30), True, (1, 20, 30, 1)),
        ((20, 30, 3), True, (1, 20, 30, 3)),
        ((20, 30, 4), True, (1, 20, 30, 4)),
        ((5, 20, 30), True, (5, 20, 30, 1)),
        ((20, 30, 3), False, (20, 30, 3, 1)),
        ((2, 20, 30, 3), True, (2, 20, 30, 3)),
    ],
)
def test_as_frames_views(
    shape: tuple[int, ...], samples_last: bool, expected: tuple[int, ...]
) -> None:
    arr = np.zeros(shape, np.uint8)
    view = as_frames(arr, samples_last=samples_last)
    assert view.shape == expected and np.shares_memory(view, arr)
    redact(view, [Region(0, 0, 2, 2)], fill=1, out=view)
    assert arr.sum() > 0  # written through the view


def test_as_frames_refuses_other_ranks() -> None:
    with pytest.raises(ValueError):
        as_frames(np.zeros(5))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"method": "smudge"}, ValueError),
        ({"margin": -1}, ValueError),
        ({"strength": 0}, ValueError),
        ({"fill": (1, 2)}, ValueError),  # 3 samples
        ({"fill": 300}, ValueError),  # not a uint8
        ({"fill": 1.5}, ValueError),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        redact(np.zeros((1, 4, 4, 3), np.uint8), [Region(0, 0, 2, 2)], **kwargs)


def test_bad_frames_and_masks() -> None:
    with pytest.raises(ValueError, match="4-D"):
        redact(np.zeros((4, 4), np.uint8), [])
    with pytest.raises(TypeError):
        redact(np.zeros((1, 4, 4, 1), bool), [])
    with pytest.raises(ValueError, match="mask"):
        redact(np.zeros((1, 4, 4, 1), np.uint8), [Region(0, 0, 2, 2, mask=np.ones((3, 3), bool))])
    with pytest.raises(ValueError):
        redact(np.zeros((3, 4, 4, 1), np.uint8), [Region(0, 0, 2, 2, frames=slice(0, 3, 0))])
