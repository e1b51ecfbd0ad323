"""Reading back what the poster endpoints draw: QR codes decoded by zxing-cpp."""

from io import BytesIO

import zxingcpp
from PIL import Image


def open_png(body: bytes) -> Image.Image:
    image = Image.open(BytesIO(body))
    image.load()
    return image


def decode_qr(image: Image.Image) -> list[zxingcpp.Barcode]:
    return [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


def ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many pixels of `box` are dark enough to be text."""
    histogram = image.crop(box).convert("L").histogram()
    return sum(histogram[:128])
