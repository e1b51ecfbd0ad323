"""Totals drawn as horizontal bars in inline SVG: no script, no image to load, readable at
360 px (labels 16 px where the chart is drawn 1:1, larger where it is wider)."""

from markupsafe import Markup, escape

from app.schemas import yuan_text

WIDTH = 320
ROW = 60
BAR = 20


def bars(rows: list[tuple[str, int]], *, label: str) -> Markup:
    """One bar per (name, fen), the longest the largest; `label` says what it shows."""
    most = max((fen for _, fen in rows), default=0) or 1
    height = ROW * len(rows)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}">'
    ]
    for number, (name, fen) in enumerate(rows):
        top = number * ROW
        width = max(round(fen / most * WIDTH), 3)
        parts.append(
            f'<text x="0" y="{top + 22}" font-size="17">{escape(name)}</text>'
            f'<text x="{WIDTH}" y="{top + 22}" font-size="17" font-weight="bold" '
            f'text-anchor="end">{yuan_text(fen)}元</text>'
            f'<rect x="0" y="{top + 30}" width="{width}" height="{BAR}" rx="3" fill="#b8232f"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it is escaped above)
