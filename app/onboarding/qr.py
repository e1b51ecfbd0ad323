"""QR codes for poster URLs: error correction Q (a quarter of the code may be dirty or torn, as
on an outdoor notice board), and the quiet zone of 4 light modules that scanners need."""

from io import BytesIO

import qrcode
from PIL import Image

QUIET_ZONE = 4


def matrix(data: str) -> list[list[bool]]:
    """The modules, dark = True, the quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    rows: list[list[bool]] = code.get_matrix()
    return rows


def image(data: str, *, module_px: int) -> Image.Image:
    """Black on white, each module `module_px` pixels square (sharp edges, no scaling blur)."""
    modules = matrix(data)
    small = Image.new("1", (len(modules), len(modules)), 1)
    small.putdata([0 if dark else 1 for row in modules for dark in row])
    side = len(modules) * module_px
    return small.resize((side, side), Image.Resampling.NEAREST)


def png(data: str, *, module_px: int = 10) -> bytes:
    out = BytesIO()
    image(data, module_px=module_px).save(out, "PNG", optimize=True)
    return out.getvalue()


def svg(data: str) -> bytes:
    """One path of unit squares on a white square, scalable to any print size."""
    modules = matrix(data)
    side = len(modules)
    squares = "".join(
        f"M{x} {y}h1v1h-1z" for y, row in enumerate(modules) for x, dark in enumerate(row) if dark
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
        f'width="{side * 10}" height="{side * 10}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{squares}" fill="#000"/></svg>\n'
    ).encode()
