"""Photos from phones, made ready to show: a large photo is decoded smaller to save time, and
must come out as wide, as upright and as sharp as a full decode would give."""

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat

from app.images import photo_for_phones

ORIENTATION = 0x0112


def _phone_photo(size: tuple[int, int], orientation: int) -> bytes:
    """A JPEG of `size` pixels as stored, with fine detail, as a phone shoots it."""
    image = Image.new("RGB", size, (200, 220, 240))
    draw = ImageDraw.Draw(image)
    for x in range(0, 4000, 40):  # stripes and text-sized marks a blur would wash out
        draw.rectangle((x, 0, x + 19, 1000), fill=(30, 90 + x % 120, 60))
    for y in range(1000, 2000, 30):
        draw.line((0, y, 4000, y + 200), fill=(180, 30, 30), width=6)
    draw.ellipse((2600, 100, 3600, 900), fill=(250, 200, 40))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def _fully_decoded(data: bytes, width: int) -> Image.Image:
    """The photo decoded whole, turned, shrunk and saved as the app saves it."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
    height = round(upright.height * width / upright.width)
    out = io.BytesIO()
    upright.resize((width, height), Image.Resampling.LANCZOS).save(out, "JPEG", quality=82)
    return Image.open(out).convert("RGB")


@pytest.mark.parametrize(
    ("stored", "orientation", "shown"),
    [
        ((4000, 3000), 1, (1080, 810)),  # 12 megapixels, held sideways
        ((4000, 3000), 6, (1080, 1440)),  # held upright
        ((8000, 2000), 6, (1080, 4320)),  # a panorama shot upwards, a tower say
    ],
)
def test_a_large_photo_comes_out_as_wide_upright_and_sharp_as_a_full_decode(
    stored: tuple[int, int], orientation: int, shown: tuple[int, int]
) -> None:
    data = _phone_photo(stored, orientation)

    photo, width, height = photo_for_phones(data, max_width=1080)

    with Image.open(io.BytesIO(photo)) as image:
        assert (width, height) == image.size == shown
        expected = _fully_decoded(data, 1080)
        difference = ImageStat.Stat(ImageChops.difference(image.convert("RGB"), expected))
    # levels of 255 per channel, on average: 2.4–3.4 here; a blur of one pixel gives 13–18
    assert max(difference.mean) < 6


def test_a_photo_narrower_than_a_phone_keeps_its_size() -> None:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (10, 120, 200)).save(out, "JPEG")

    _, width, height = photo_for_phones(out.getvalue(), max_width=1080)

    assert (width, height) == (800, 600)


@pytest.mark.parametrize(
    ("stored", "orientation", "shown"),
    [
        ((3581, 2174), 1, (1080, 656)),  # 655.67: a decode at half size would say 655
        ((1632, 3493), 6, (1080, 505)),  # 504.6, turned
    ],
)
def test_a_photo_decoded_smaller_keeps_its_height_to_the_pixel(
    stored: tuple[int, int], orientation: int, shown: tuple[int, int]
) -> None:
    _, width, height = photo_for_phones(_phone_photo(stored, orientation), max_width=1080)

    assert (width, height) == shown
