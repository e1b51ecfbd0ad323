"""Server-rendered Chinese pages: one base template (app/templates/base.html: one small inline
stylesheet, large text, nothing loaded from another host) under every page of every domain.
Jinja2 escapes everything put into them."""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader

TEMPLATES = Path(__file__).parent / "templates"


def environment(directory: Path) -> Environment:
    """Templates of `directory`, which extend "base.html"."""
    return Environment(loader=FileSystemLoader([directory, TEMPLATES]), autoescape=True)
