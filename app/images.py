"""Images people upload, made safe to keep and to show: the type is read from the bytes, never
believed from the client, and the picture is re-encoded from its pixels alone, so no EXIF, GPS,
ICC or text chunk survives. Used by tips' attachments, by the photos of 阳光问廉 and by the
pictures of articles."""

import io
import math
import warnings
from collections.abc import Sequence

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # larger images are refused before they are decoded
JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
UNREADABLE = (
    OSError,
    ValueError,
    SyntaxError,
    UnidentifiedImageError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def _bare(image: Image.Image, keep: set[str], alpha_mode: str) -> Image.Image:
    """A new image from the raw pixels alone: nothing of `info` (EXIF, GPS, XMP, ICC) follows."""
    alpha = "A" in image.mode or "transparency" in image.info
    pixels = image if image.mode in keep else image.convert(alpha_mode if alpha else "RGB")
    if pixels.mode not in keep:
        pixels = pixels.convert("RGB")
    return Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())


def _open(data: bytes, *, upright_width: int | None = None) -> Image.Image:
    """The decoded JPEG or PNG; one of UNREADABLE when it is neither, damaged or too large.

    With `upright_width`, a JPEG wider than that once turned upright may be decoded smaller
    (`_decode_smaller`): the caller shrinks it to that width anyway."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        if image.format not in {"JPEG", "PNG"}:
            raise ValueError(image.format)
        if image.width * image.height > MAX_PIXELS:
            raise ValueError("too many pixels")
        if upright_width is not None and image.format == "JPEG":
            _decode_smaller(image, upright_width)
        image.load()
    return image


_SIDEWAYS = {5, 6, 7, 8}  # EXIF orientations that turn the picture by a quarter
_DECODED_WIDER = 1.25  # than the photo kept: 1.0 let 4 400 px decode at 1 100, twice as far off


def _decode_smaller(image: Image.Image, upright_width: int) -> None:
    """Let the JPEG decoder scale the picture down by 1/2, 1/4 or 1/8 while it decodes, to no
    less than 1.25 times `upright_width` pixels across once upright, so that the resampling
    after it stays as sharp: a phone's 12-megapixel photo made 1 080 px wide takes about a
    third of the time (docs/performance.md#photos-decoded-smaller)."""
    across, _ = _upright_size(image)
    scale = _DECODED_WIDER * upright_width / across
    if scale < 1:
        image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """Width and height of the picture as it is meant to be seen (a quarter turn swaps them),
    as its file gives them: before any decoding at a smaller scale."""
    width, height = image.size
    sideways = image.getexif().get(ExifTags.Base.Orientation) in _SIDEWAYS
    return (height, width) if sideways else (width, height)


def reencode(data: bytes) -> bytes:
    """The JPEG or PNG re-encoded in its own format, at its own size, without metadata."""
    with _open(data) as image:
        target = image.format
        keep = {"RGB", "L"} if target == "JPEG" else {"RGB", "RGBA", "L", "LA"}
        bare = _bare(image, keep, "RGBA")
    out = io.BytesIO()
    if target == "JPEG":
        bare.save(out, "JPEG", quality=90)
    else:
        bare.save(out, "PNG", optimize=True)
    return out.getvalue()


def photo_for_phones(data: bytes, *, max_width: int) -> tuple[bytes, int, int]:
    """A photo as a JPEG at most `max_width` pixels wide, turned upright as the camera meant
    (its EXIF orientation applied, then dropped with the rest): bytes, width, height."""
    # `header` is opened once `image` was read: only its header, for the size before any
    # decoding at a smaller scale (which rounds up)
    with _open(data, upright_width=max_width) as image, Image.open(io.BytesIO(data)) as header:
        width, height = _upright_size(header)
        upright = ImageOps.exif_transpose(image)
        if width > max_width:
            height = round(height * max_width / width)
            upright = upright.resize((max_width, max(height, 1)), Image.Resampling.LANCZOS)
        bare = _bare(upright, {"RGB", "L"}, "RGB")
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=82, optimize=True, progressive=True)
    return out.getvalue(), bare.width, bare.height


class PhotoRefused(ValueError):
    """An upload that cannot become a photo; its message says which one and why, in Chinese."""


def photos_for_phones(
    files: Sequence[bytes], *, max_bytes: int, max_width: int
) -> list[tuple[bytes, int, int]]:
    """Each file as `photo_for_phones` makes it, or PhotoRefused for the first that is too
    large, not a JPEG or PNG, damaged or a decompression bomb (then none is kept)."""
    photos = []
    for number, data in enumerate(files, start=1):
        if len(data) > max_bytes:
            raise PhotoRefused(f"第 {number} 张照片超过 {max_bytes // (1024 * 1024)} MB。")
        if sniff(data) not in (JPEG, PNG):
            raise PhotoRefused(f"第 {number} 张不是 JPEG 或 PNG 照片。")
        try:
            photos.append(photo_for_phones(data, max_width=max_width))
        except UNREADABLE as exc:
            raise PhotoRefused(f"第 {number} 张照片已损坏或太大，无法读取。") from exc
    return photos
