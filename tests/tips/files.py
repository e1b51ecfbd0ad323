"""Test files with metadata that must not survive."""

import io

from PIL import Image
from pypdf import PdfWriter

GPS_IFD = 0x8825
GPS_LATITUDE_REF, GPS_LATITUDE = 1, 2
MAKE = 0x010F
AUTHOR = "ZhangSanAuthor"


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[MAKE] = "SpyPhoneMaker"
    exif.get_ifd(GPS_IFD).update({GPS_LATITUDE_REF: "N", GPS_LATITUDE: (31.0, 33.0, 12.5)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 0)).save(out, "PNG")
    return out.getvalue()


def pdf_with_author() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": AUTHOR, "/Title": "SecretTitle"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
