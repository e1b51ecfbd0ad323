"""Lianyun (廉韵): backend of a county transparency app."""

__version__ = "0.1.0"
