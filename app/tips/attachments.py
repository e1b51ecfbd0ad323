"""Attachments: the type is read from the bytes, never believed from the client; images are
re-encoded from their pixels alone (app.images: no EXIF, GPS, ICC or text chunks survive) and
PDFs are rewritten page by page without document info or XMP. Stored files are AES-GCM
encrypted under the tip's data key, named by a random token, and dated to midnight."""

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from app.images import JPEG, MAX_PIXELS, PDF, PNG, UNREADABLE, reencode, sniff
from app.tips import crypto
from app.tips.errors import AttachmentInvalid, AttachmentTooLarge
from app.uploads import Upload

__all__ = ["Upload"]

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PDF_PAGES = 200
_PDF_DPI = 150
_EXTENSIONS = {".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".pdf": PDF}
_NAMES = {JPEG: "JPEG 图片", PNG: "PNG 图片", PDF: "PDF 文件"}
_LABEL = "attachment"


@dataclass(frozen=True)
class CleanFile:
    media_type: str
    data: bytes


def _claimed(upload: Upload) -> set[str]:
    claims = set()
    content_type = upload.content_type.split(";")[0].strip().lower()
    if content_type and content_type != "application/octet-stream":
        claims.add("image/jpeg" if content_type == "image/jpg" else content_type)
    extension = Path(upload.filename or "").suffix.lower()
    if extension:
        claims.add(_EXTENSIONS.get(extension, extension))
    return claims


def clean(upload: Upload, position: int) -> CleanFile:
    """The file re-encoded without metadata; AttachmentInvalid when it is not a JPEG, PNG or
    PDF, when it is not what its name or type claims, or when it cannot be read."""
    which = f"第 {position} 个附件"
    if len(upload.data) > MAX_FILE_BYTES:
        raise AttachmentTooLarge(f"{which}超过 10 MB。")
    if not upload.data:
        raise AttachmentInvalid(f"{which}是空文件。")
    media_type = sniff(upload.data)
    if media_type is None:
        raise AttachmentInvalid(f"{which}不是 JPEG、PNG 图片或 PDF 文件。")
    claims = _claimed(upload)
    if claims - {media_type}:
        raise AttachmentInvalid(
            f"{which}的内容是{_NAMES[media_type]}，与文件名或类型不符，请重新选择文件。"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            data = _clean_pdf(upload.data) if media_type == PDF else reencode(upload.data)
    except UNREADABLE as exc:
        raise AttachmentInvalid(f"{which}已损坏或太大，无法读取。") from exc
    return CleanFile(media_type=media_type, data=data)


def _clean_pdf(data: bytes) -> bytes:
    """Every page drawn to pixels and a new PDF made of those pictures alone: whatever the
    original carried (document info, XMP, photos with GPS, comments and their authors,
    scripts, fonts) does not survive. The text is no longer selectable; the tipster's safety
    comes first."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:  # damaged, or locked with a password
        raise ValueError("unreadable PDF") from exc
    pages: list[Image.Image] = []
    try:
        if len(document) > MAX_PDF_PAGES:
            raise ValueError("too many pages")
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()  # points
            scale = min(_PDF_DPI / 72, (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
            drawn = page.render(scale=scale).to_pil().convert("RGB")
            pages.append(Image.frombytes("RGB", drawn.size, drawn.tobytes()))
            page.close()
    finally:
        document.close()
    if not pages:
        raise ValueError("no pages")
    out = io.BytesIO()
    pages[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=_PDF_DPI,
        # Pillow would write the file name and the moment of writing
        title=None,
        creationDate=None,
        modDate=None,
    )
    return out.getvalue()


def seal(key: bytes, data: bytes) -> bytes:
    return crypto.encrypt(key, data, label=_LABEL)


def unseal(key: bytes, blob: bytes) -> bytes:
    return crypto.decrypt(key, blob, label=_LABEL)
