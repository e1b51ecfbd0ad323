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


def pdf_with_a_gps_photo() -> bytes:
    """A PDF whose page shows `jpeg_with_gps()` as is (DCTDecode keeps the JPEG's EXIF), with
    a comment signed by AUTHOR and a page script, as a phone's "scan to PDF" might make."""
    photo = jpeg_with_gps()
    content = b"q 64 0 0 48 10 10 cm /Im0 Do Q"
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 80]/Resources<</XObject<</Im0 4 0 R>>>>"
        b"/Contents 5 0 R/Annots[6 0 R]/AA<</O<</S/JavaScript/JS(app.alert(1))>>>>>>",
        b"<</Type/XObject/Subtype/Image/Width 64/Height 48/ColorSpace/DeviceRGB"
        b"/BitsPerComponent 8/Filter/DCTDecode/Length %d>>stream\n"
        % len(photo)
        + photo
        + b"\nendstream",
        b"<</Length %d>>stream\n" % len(content) + content + b"\nendstream",
        b"<</Type/Annot/Subtype/Text/Rect[0 0 10 10]/T(" + AUTHOR.encode() + b")/Contents(hi)>>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def png_bomb() -> bytes:
    """A tiny PNG that claims 200 million pixels."""
    out = io.BytesIO()
    Image.new("1", (20_000, 10_000)).save(out, "PNG")
    return out.getvalue()
