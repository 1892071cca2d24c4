"""Fit screenshots into the attachment budget (2 MB by default).

A full-page screenshot of a long page easily weighs 5-20 MB as PNG, and the
support desk takes attachments of at most 2 MB. What the agent needs is a
*readable* picture, so we keep the full width (text stays legible) and lower
JPEG quality first (85 down to 50 is still fine for UI text); only when even
that is too big do we downscale.

Encoding a 15-megapixel image takes a noticeable fraction of a second, so we
do not search by trial and error on the whole image: we encode a sample of
evenly spaced horizontal bands (about a megapixel) to learn bytes per pixel at
each quality, pick the best setting from that estimate, and encode the whole
image once — a second time only if the estimate was off.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PIL import Image, UnidentifiedImageError

ImageFormat = Literal["png", "jpeg", "webp"]

MAX_PIXELS = 200_000_000
"""Images above this many pixels are refused (a 1280 x 150,000 page is already absurd)."""

QUALITIES = (90, 85, 80, 75, 70, 65, 60, 55, 50)
"""Lossy qualities tried at full size, best first; below the last we downscale instead."""

SCALED_QUALITY = 60
"""Quality used once we downscale: pixels matter more than quality for legibility."""

MIN_PNG_SCALE = 0.5
"""``prefer="png"`` stays lossless only if half the width (or more) fits; else JPEG."""

WEBP_MAX_SIDE = 16_383
"""WebP cannot encode larger sides; taller pages fall back to JPEG."""

SAMPLE_PIXELS = 1_000_000
SAMPLE_BANDS = 48
RESAMPLE = Image.Resampling.BILINEAR
"""Pillow's bilinear filter widens with the reduction (no aliasing); at the mild scales we
use text stays as legible as with Lanczos, at half the time on a 50-megapixel page."""
TARGET = 0.96
"""Aim this far under the budget so that an estimate a few percent off still fits."""

_FORMATS: dict[str, ImageFormat] = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "WEBP": "webp"}
_PIXEL_LIMIT_LOCK = threading.Lock()


@dataclass(frozen=True)
class FittedImage:
    """An image that fits the budget, with what was done to it (``note`` is for the ticket)."""

    data: bytes
    format: ImageFormat
    width: int
    height: int
    original_width: int
    original_height: int
    scaled: bool
    note: str


def fit_image(data: bytes, max_bytes: int, *, prefer: str = "jpeg") -> FittedImage:
    """Return ``data`` unchanged if it fits in ``max_bytes``, else a re-encoded copy that does.

    ``prefer`` is the encoder used when re-encoding: ``"jpeg"`` (default, fast and
    small), ``"webp"`` (smaller, slower; JPEG for sides above 16,383 px) or
    ``"png"`` (lossless, by downscaling alone; JPEG when that would halve the
    width). Raises ``ValueError`` for data that is not an image, images above
    200 megapixels, or a budget too small for any legible image.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, not {max_bytes}")
    if prefer not in ("jpeg", "webp", "png"):
        raise ValueError(f"prefer must be 'jpeg', 'webp' or 'png', not {prefer!r}")
    image = _open(data)
    width, height = image.size
    source_format = _FORMATS.get(image.format or "")
    if len(data) <= max_bytes and source_format is not None:
        return FittedImage(data, source_format, width, height, width, height, False, "")
    try:
        image.load()
    except (OSError, SyntaxError) as exc:  # truncated or corrupt pixel data
        raise ValueError(f"cannot decode image: {exc}") from None

    fitted: tuple[bytes, ImageFormat, Image.Image, int | None] | None = None
    if prefer == "png":
        fitted = _fit_png(image, len(data) if source_format == "png" else None, max_bytes)
    if fitted is None:
        encoder: ImageFormat = "webp" if prefer == "webp" else "jpeg"
        if encoder == "webp" and max(width, height) > WEBP_MAX_SIDE:
            encoder = "jpeg"
        fitted = _fit_lossy(_to_rgb(image), encoder, max_bytes)
    out, fmt, result, quality = fitted
    scaled = result.size != (width, height)
    return FittedImage(
        data=out,
        format=fmt,
        width=result.width,
        height=result.height,
        original_width=width,
        original_height=height,
        scaled=scaled,
        note=_note(len(data), len(out), max_bytes, fmt, quality, (width, height), result.size),
    )


def _open(data: bytes) -> Image.Image:
    """Open lazily (header only), with our own pixel limit instead of Pillow's.

    Pillow warns above ~89 megapixels (``DecompressionBombWarning``) and refuses
    above twice that, but a full-page screenshot of a long page is legitimately
    big; we allow up to ``MAX_PIXELS`` and refuse beyond with a ``ValueError``.
    """
    with _PIXEL_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # checked below, before any pixel is decoded
        try:
            image = Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise ValueError(f"not an image Pillow can read: {exc}") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ValueError(
            f"image too large: {width}x{height} px is over {MAX_PIXELS // 1_000_000} megapixels"
        )
    if width < 1 or height < 1:
        raise ValueError(f"image has no pixels: {width}x{height}")
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB for JPEG; transparent pixels go on white (as a page background would)."""
    if image.mode == "RGB":
        return image
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    if rgba.getchannel("A").getextrema() == (255, 255):
        return rgba.convert("RGB")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _encode(image: Image.Image, fmt: ImageFormat, quality: int | None = None) -> bytes:
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.save(buffer, "JPEG", quality=quality, optimize=False, progressive=False)
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=quality, method=2)  # 2x faster than 3, as small
    else:
        image.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def _sample(image: Image.Image, scale: float = 1.0) -> Image.Image:
    """Evenly spaced full-width bands (about a megapixel), as they would look at ``scale``.

    Bands keep the mix of the page (header, text, pictures, blank space), so the
    sample's bytes per pixel predict the whole image's within a few percent.
    Each band is a whole number of JPEG block rows (band edges cost nothing) and
    is exactly the rows the whole image would have once resized (``box=``).
    """
    width, height = image.size
    out_width, out_height = max(1, round(width * scale)), max(1, round(height * scale))
    band = max(16, (SAMPLE_PIXELS // out_width // SAMPLE_BANDS) // 16 * 16)
    if out_height <= band * SAMPLE_BANDS * 2:
        return _resize(image, scale)
    sample = Image.new(image.mode, (out_width, band * SAMPLE_BANDS))
    step = (out_height - band) / (SAMPLE_BANDS - 1)
    for i in range(SAMPLE_BANDS):
        top = round(i * step) // 16 * 16
        if scale < 1.0:
            box = (0, top / scale, width, min(height, (top + band) / scale))
            piece = image.resize((out_width, band), RESAMPLE, box=box)
        else:
            piece = image.crop((0, top, width, top + band))
        sample.paste(piece, (0, i * band))
    return sample


def _fit_lossy(
    image: Image.Image, fmt: ImageFormat, max_bytes: int
) -> tuple[bytes, ImageFormat, Image.Image, int]:
    """Best quality at full size; else downscale at ``SCALED_QUALITY``."""
    width, height = image.size
    sample = _sample(image)
    exact = sample is image
    ratio = (width * height) / (sample.width * sample.height)
    target = max_bytes if exact else max_bytes * TARGET
    estimates: dict[int, float] = {}
    encoded: dict[int, bytes] = {}  # when the sample is the whole image, keep its encodings

    def estimate(quality: int) -> float:
        if quality not in estimates:
            out = _encode(sample, fmt, quality)
            if exact:
                encoded[quality] = out
            estimates[quality] = len(out) * ratio
        return estimates[quality]

    # Highest quality whose estimate fits: bisection over QUALITIES (best first).
    correction = 1.0  # actual / estimated size, once a full encode has told us
    chosen = _highest_fitting(QUALITIES, lambda q: estimate(q) <= target)
    if chosen is not None:
        out = encoded.get(chosen) or _encode(image, fmt, chosen)
        if len(out) <= max_bytes:
            return out, fmt, image, chosen
        # The estimate was off; try the best lower quality that allows for it.
        correction = len(out) / estimate(chosen)
        lower = [q for q in QUALITIES if q < chosen]
        retry = _highest_fitting(lower, lambda q: estimate(q) * correction <= target)
        if retry is not None:
            out = _encode(image, fmt, retry)
            if len(out) <= max_bytes:
                return out, fmt, image, retry
            correction = len(out) / estimate(retry)
    return _fit_scaled(image, sample, fmt, max_bytes, correction)


def _fit_scaled(
    image: Image.Image,
    sample: Image.Image,
    fmt: ImageFormat,
    max_bytes: int,
    correction: float,
) -> tuple[bytes, ImageFormat, Image.Image, int]:
    """Downscale so that the image fits at ``SCALED_QUALITY``.

    The scale is solved on the sample, resized like the image would be (a
    smaller image encodes denser, so one or two refinements), times the
    ``correction`` a full-size encode taught us; then the whole image is resized
    and encoded once, again only if that estimate was off.
    """
    width, height = image.size
    quality = SCALED_QUALITY
    target = max_bytes * TARGET
    scale = 1.0
    for _ in range(3):
        small = sample if scale == 1.0 else _sample(image, scale)
        per_pixel = len(_encode(small, fmt, quality)) / (small.width * small.height)
        predicted = per_pixel * width * height * scale * scale * correction
        if 0.95 * target <= predicted <= target and scale < 1.0:
            break
        scale = min(scale * math.sqrt(target / predicted), 0.99)
    for _ in range(6):
        result = _resize(image, scale)
        out = _encode(result, fmt, quality)
        if len(out) <= max_bytes:
            return out, fmt, result, quality
        if result.width <= 16 or result.height <= 16:
            break
        scale *= min(math.sqrt(target / len(out)), 0.95)
    raise ValueError(f"cannot fit a legible {width}x{height} image into {max_bytes:,} bytes")


def _fit_png(
    image: Image.Image, png_bytes: int | None, max_bytes: int
) -> tuple[bytes, ImageFormat, Image.Image, None] | None:
    """Lossless: downscale until the PNG fits, unless that would go below half size."""
    width, height = image.size
    if image.mode in ("1", "P"):  # palette images only resize by nearest neighbour
        has_alpha = "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if png_bytes is None:  # learn PNG bytes per pixel from the sample
        sample = _sample(image)
        png_bytes = int(
            len(_encode(sample, "png")) * width * height / (sample.width * sample.height)
        )
    scale = min(math.sqrt(max_bytes * TARGET / png_bytes), 1.0)
    for _ in range(2):
        if scale < MIN_PNG_SCALE:
            return None
        result = _resize(image, scale)
        out = _encode(result, "png")
        if len(out) <= max_bytes:
            return out, "png", result, None
        scale *= min(math.sqrt(max_bytes * TARGET / len(out)), 0.95)
    return None


def _resize(image: Image.Image, scale: float) -> Image.Image:
    if scale >= 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reducing_gap: for big reductions a fast box reduction first, then the filter.
    return image.resize(size, RESAMPLE, reducing_gap=2.0)


def _highest_fitting(
    qualities: tuple[int, ...] | list[int], fits: Callable[[int], bool]
) -> int | None:
    """First (best) quality in the descending list for which ``fits`` holds, by bisection."""
    lo, hi = 0, len(qualities)
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(qualities[mid]):
            hi = mid
        else:
            lo = mid + 1
    return qualities[lo] if lo < len(qualities) else None


def _note(
    before: int,
    after: int,
    max_bytes: int,
    fmt: ImageFormat,
    quality: int | None,
    original: tuple[int, int],
    size: tuple[int, int],
) -> str:
    how = fmt.upper() + (f" quality {quality}" if quality is not None else "")
    what = f"re-encoded as {how}"
    if size != original:
        what = f"downscaled from {original[0]}x{original[1]} to {size[0]}x{size[1]} and " + what
    return f"{what} to fit {max_bytes:,} bytes ({before:,} -> {after:,} bytes)"
