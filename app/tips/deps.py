"""Tip request bodies (JSON, or multipart with files) and the commission-only gate."""

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel

from app import uploads
from app.errors import NotFound
from app.staff.deps import CurrentStaff
from app.staff.models import Role, Staff
from app.tips.attachments import MAX_FILE_BYTES, MAX_FILES
from app.tips.errors import TipFormInvalid
from app.tips.schemas import ReceiptMessageCreate, TipCreate
from app.uploads import Files, Upload, parse_body

ATTACHMENTS = Files(
    field="attachments",
    max_files=MAX_FILES,
    max_file_bytes=MAX_FILE_BYTES,
    description="附件：JPEG、PNG 图片或 PDF，最多 5 个，每个不超过 10 MB",
)


async def _tip_submission(request: Request) -> tuple[TipCreate, list[Upload]]:
    return await parse_body(request, TipCreate, ATTACHMENTS, invalid=TipFormInvalid)


async def _receipt_message(request: Request) -> tuple[ReceiptMessageCreate, list[Upload]]:
    return await parse_body(request, ReceiptMessageCreate, ATTACHMENTS, invalid=TipFormInvalid)


TipSubmission = Annotated[tuple[TipCreate, list[Upload]], Depends(_tip_submission)]
ReceiptMessageSubmission = Annotated[
    tuple[ReceiptMessageCreate, list[Upload]], Depends(_receipt_message)
]


def _commission(staff: CurrentStaff) -> Staff:
    """Anyone but the commission is told there is nothing here (not that it is forbidden)."""
    if staff.role != Role.commission:
        raise NotFound("没有这个地址，请检查网址是否正确。")
    return staff


Commission = Annotated[Staff, Depends(_commission)]


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI `requestBody` for a route that takes JSON or multipart with attachments."""
    return uploads.body_schema(model, ATTACHMENTS)
