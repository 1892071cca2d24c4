"""Fitting screenshots into the attachment budget (no timing asserted here)."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

import pytest
from PIL import Image, ImageDraw

import collector.images as images
from collector.images import FittedImage, fit_image

BUDGET = 2_000_000


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noisy_page(width: int, height: int, seed: int = 0, noise: float = 0.35) -> Image.Image:
    """A long colourful page: gradient bands with photo-like noise, flat blocks with text."""
    rng = random.Random(seed)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    ramp = Image.linear_gradient("L").resize((width, 256))
    for index, top in enumerate(range(0, height, 300)):
        band = min(300, height - top)
        if index % 3 == 0:
            channels = [ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ramp.rotate(180)]
            rng.shuffle(channels)
            gradient = Image.merge("RGB", channels).resize((width, band))
            grain = Image.frombytes("RGB", (width, band), rng.randbytes(width * band * 3))
            page.paste(Image.blend(gradient, grain, noise), (0, top))
        else:
            colour = tuple(rng.randrange(256) for _ in range(3))
            draw.rectangle((0, top, width, top + band), fill=colour)
            ink = tuple(255 - c for c in colour)
            for line in range(top + 10, top + band - 16, 18):
                draw.text((20, line), f"Order {rng.random()} total {rng.random()} " * 4, fill=ink)
    return page


@pytest.fixture(scope="module")
def long_page_png() -> bytes:
    data = encode(noisy_page(1280, 12_000), compress_level=1)
    assert len(data) > 5_000_000
    return data


def decoded(fitted: FittedImage) -> Image.Image:
    image = Image.open(io.BytesIO(fitted.data))
    image.load()
    return image


def check_result(fitted: FittedImage, budget: int, fmt: str, original: tuple[int, int]) -> None:
    assert len(fitted.data) <= budget
    assert fitted.format == fmt
    image = decoded(fitted)
    assert image.format.lower() == fmt
    assert image.size == (fitted.width, fitted.height)
    assert (fitted.original_width, fitted.original_height) == original
    assert fitted.scaled == (image.size != original)
    # The aspect ratio survives downscaling (within rounding).
    assert abs(image.width / image.height - original[0] / original[1]) < 0.01
    assert fitted.note.startswith(("re-encoded", "downscaled"))
    assert f"{budget:,} bytes" in fitted.note


def test_long_colourful_page_fits_two_megabytes(long_page_png: bytes) -> None:
    fitted = fit_image(long_page_png, BUDGET)
    check_result(fitted, BUDGET, "jpeg", (1280, 12_000))
    # Readable: most of the width is kept, and most of the budget is used.
    assert fitted.width >= 1000
    assert len(fitted.data) > 0.8 * BUDGET


def test_few_full_size_encodes(long_page_png: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Quality and scale come from a sample, not from encoding the whole page again and again."""
    sizes: list[tuple[int, int]] = []
    real_encode = images._encode

    def counting(image: Image.Image, fmt: str, quality: int | None = None) -> bytes:
        sizes.append(image.size)
        return real_encode(image, fmt, quality)

    monkeypatch.setattr(images, "_encode", counting)
    fit_image(long_page_png, BUDGET)
    full_size = [size for size in sizes if size[1] > 2_000]
    assert 1 <= len(full_size) <= 3


def test_full_width_kept_when_quality_is_enough() -> None:
    page = noisy_page(1280, 3_000, noise=0.2)
    data = encode(page)
    assert len(data) > 1_000_000
    fitted = fit_image(data, 1_000_000)
    check_result(fitted, 1_000_000, "jpeg", (1280, 3_000))
    assert not fitted.scaled
    assert "quality" in fitted.note


@pytest.mark.parametrize(
    ("fmt", "save_as", "options"),
    [
        ("png", "PNG", {}),
        ("jpeg", "JPEG", {"quality": 90}),
        ("webp", "WEBP", {"quality": 80}),
    ],
)
def test_small_image_comes_back_unchanged(fmt: str, save_as: str, options: dict) -> None:
    data = encode(noisy_page(320, 200), save_as, **options)
    fitted = fit_image(data, BUDGET)
    assert fitted == FittedImage(data, fmt, 320, 200, 320, 200, False, "")  # type: ignore[arg-type]
    assert fitted.data is data


def test_image_exactly_at_budget_is_unchanged() -> None:
    data = encode(noisy_page(320, 200))
    assert fit_image(data, len(data)).data is data


@pytest.mark.parametrize(
    ("mode", "transparent"),
    [("RGBA", True), ("RGBA", False), ("LA", True), ("P", True), ("P", False), ("L", False)],
)
def test_modes_convert_for_jpeg(mode: str, transparent: bool) -> None:
    base = noisy_page(600, 900, noise=0.6)
    if mode == "P":
        image = base.quantize(255)
        palette = image.getpalette() or []
        image.putpalette(palette + [0, 0, 0] * (256 - len(palette) // 3))  # index 255: black
        if transparent:
            ImageDraw.Draw(image).rectangle((0, 0, 63, 63), fill=255)
            image.info["transparency"] = 255
    else:
        image = base.convert(mode)
        if transparent:
            clear = (0, 0) if mode == "LA" else (0, 0, 0, 0)
            ImageDraw.Draw(image).rectangle((0, 0, 63, 63), fill=clear)
    data = encode(image)
    budget = len(data) // 3
    fitted = fit_image(data, budget)
    check_result(fitted, budget, "jpeg", (600, 900))
    result = decoded(fitted)
    assert result.mode == "RGB"
    if transparent:  # transparent pixels land on white, like a page background
        assert min(result.getpixel((10, 10))) > 240


def test_prefer_webp() -> None:
    data = encode(noisy_page(1000, 1500))
    fitted = fit_image(data, 500_000, prefer="webp")
    check_result(fitted, 500_000, "webp", (1000, 1500))


def test_prefer_webp_falls_back_to_jpeg_for_very_tall_pages() -> None:
    image = Image.new("RGB", (64, 17_000), "white")
    image.paste(noisy_page(64, 3_000, noise=1.0), (0, 0))
    data = encode(image)
    fitted = fit_image(data, len(data) // 2, prefer="webp")
    check_result(fitted, len(data) // 2, "jpeg", (64, 17_000))


def test_prefer_png_stays_lossless_by_downscaling() -> None:
    data = encode(noisy_page(800, 800, noise=0.5))
    budget = int(len(data) * 0.6)
    fitted = fit_image(data, budget, prefer="png")
    check_result(fitted, budget, "png", (800, 800))
    assert fitted.scaled
    assert "quality" not in fitted.note


def test_prefer_png_falls_back_to_jpeg_rather_than_shrink_below_half() -> None:
    data = encode(noisy_page(800, 800, noise=0.5))
    budget = len(data) // 10
    fitted = fit_image(data, budget, prefer="png")
    check_result(fitted, budget, "jpeg", (800, 800))


def test_jpeg_input_is_re_encoded_smaller() -> None:
    data = encode(noisy_page(1280, 2_000), "JPEG", quality=98)
    fitted = fit_image(data, len(data) // 2)
    check_result(fitted, len(data) // 2, "jpeg", (1280, 2_000))


def test_very_tall_page_without_decompression_bomb_warning() -> None:
    image = Image.new("RGB", (1280, 40_000), (250, 250, 250))
    image.paste(noisy_page(1280, 600, noise=1.0), (0, 20_000))
    data = encode(image, compress_level=1)
    budget = len(data) * 3 // 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = fit_image(data, budget)
    check_result(fitted, budget, "jpeg", (1280, 40_000))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: Pillow reads the size lazily."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_pixel_limit_is_ours_not_pillows() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # 196 megapixels: over Pillow's own limits, under ours; it fits, so it is not decoded.
        fitted = fit_image(png_header_only(14_000, 14_000), BUDGET)
    assert (fitted.width, fitted.height) == (14_000, 14_000)
    assert Image.MAX_IMAGE_PIXELS is not None  # Pillow's global limit was put back


@pytest.mark.parametrize(
    ("data", "budget", "prefer", "message"),
    [
        (png_header_only(20_000, 10_001), BUDGET, "jpeg", "image too large: 20000x10001 px"),
        (b"not an image", BUDGET, "jpeg", "not an image Pillow can read"),
        (b"", BUDGET, "jpeg", "not an image Pillow can read"),
        (png_header_only(10, 10), 0, "jpeg", "max_bytes must be positive, not 0"),
        (png_header_only(10, 10), BUDGET, "gif", "prefer must be 'jpeg', 'webp' or 'png'"),
    ],
)
def test_bad_input(data: bytes, budget: int, prefer: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_image(data, budget, prefer=prefer)


def test_truncated_image_is_a_value_error() -> None:
    data = encode(noisy_page(400, 400, noise=1.0))
    with pytest.raises(ValueError, match="cannot decode image"):
        fit_image(data[: len(data) // 2], 10_000)


def test_budget_too_small_for_any_image() -> None:
    data = encode(noisy_page(400, 400, noise=1.0))
    with pytest.raises(ValueError, match="cannot fit a legible 400x400 image into 100 bytes"):
        fit_image(data, 100)
