from app.onboarding import qr
from tests.onboarding.images import decode_qr, ink

URL = "https://lianyun.example.cn/i/k7mq2xva"


def test_the_matrix_keeps_a_quiet_zone_of_four_modules() -> None:
    modules = qr.matrix(URL)
    side = len(modules)
    border = [
        modules[y][x]
        for y in range(side)
        for x in range(side)
        if min(x, y, side - 1 - x, side - 1 - y) < 4
    ]
    assert not any(border)
    assert modules[4][4] and modules[4][side - 5] and modules[side - 5][4]  # finder patterns


def test_large_modules_stay_sharp_and_readable() -> None:
    image = qr.image(URL, module_px=30)
    assert set(image.convert("L").getdata()) == {0, 255}  # no blur at module edges
    assert [code.text for code in decode_qr(image)] == [URL]
    assert ink(image, (0, 0, image.width, 4 * 30)) == 0


def test_the_svg_is_the_same_code() -> None:
    svg = qr.svg(URL).decode()
    side = len(qr.matrix(URL))
    assert f'viewBox="0 0 {side} {side}"' in svg
    dark = sum(row.count(True) for row in qr.matrix(URL))
    assert svg.count("h1v1h-1z") == dark
