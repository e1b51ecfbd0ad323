import pytest

from app.tips import attachments
from app.tips.attachments import Upload
from app.tips.errors import AttachmentInvalid
from tests.tips import files


def test_a_pdf_keeps_no_photo_metadata_no_comment_author_and_no_script() -> None:
    original = files.pdf_with_a_gps_photo()
    assert b"SpyPhoneMaker" in original and files.AUTHOR.encode() in original  # it is all there
    cleaned = attachments.clean(Upload("scan.pdf", "application/pdf", original), 1)
    assert cleaned.media_type == attachments.PDF
    assert cleaned.data.startswith(b"%PDF")
    for trace in (b"SpyPhoneMaker", b"Exif", files.AUTHOR.encode(), b"JavaScript", b"/Annots"):
        assert trace not in cleaned.data, trace
    assert b"/CreationDate" not in cleaned.data and b"/ModDate" not in cleaned.data


def test_a_decompression_bomb_is_refused_not_a_500() -> None:
    with pytest.raises(AttachmentInvalid):
        attachments.clean(Upload("x.png", "image/png", files.png_bomb()), 1)
