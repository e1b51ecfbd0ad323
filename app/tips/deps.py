"""Tip request bodies (JSON, or multipart with files) and the commission-only gate."""

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from app.errors import NotFound
from app.routing import MALFORMED_JSON, json_or_malformed
from app.staff.deps import CurrentStaff
from app.staff.models import Role, Staff
from app.tips.attachments import MAX_FILE_BYTES, MAX_FILES, Upload
from app.tips.errors import TipFormInvalid
from app.tips.schemas import ReceiptMessageCreate, TipCreate

M = TypeVar("M", bound=BaseModel)
FILE_FIELD = "attachments"


class _InMemoryParser(MultiPartParser):
    # Files stay in memory (the body limit bounds them): no plain copy ever touches the disk.
    spool_max_size = (MAX_FILES + 1) * MAX_FILE_BYTES


async def _parse(request: Request, model: type[M]) -> tuple[M, list[Upload]]:
    uploads: list[Upload] = []
    fields: Any
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        parser = _InMemoryParser(
            request.headers, request.stream(), max_files=20, max_fields=20, max_part_size=64 * 1024
        )
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise TipFormInvalid("表单格式不对、字段太长或附件太多（最多 5 个）。") from exc
        fields = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name == FILE_FIELD and (value.filename or value.size):
                    content = await value.read()
                    uploads.append(Upload(value.filename or "", value.content_type or "", content))
                await value.close()
            elif value != "":
                fields[name] = value
    else:
        fields = json_or_malformed(await request.body())
        if fields is MALFORMED_JSON:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON", "input": None}]
            )
    try:
        data = model.model_validate(fields)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    return data, uploads


async def _tip_submission(request: Request) -> tuple[TipCreate, list[Upload]]:
    return await _parse(request, TipCreate)


async def _receipt_message(request: Request) -> tuple[ReceiptMessageCreate, list[Upload]]:
    return await _parse(request, ReceiptMessageCreate)


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
    schema = model.model_json_schema()
    multipart = {
        **schema,
        "properties": {
            **schema["properties"],
            FILE_FIELD: {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "maxItems": MAX_FILES,
                "description": "附件：JPEG、PNG 图片或 PDF，最多 5 个，每个不超过 10 MB",
            },
        },
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "multipart/form-data": {"schema": multipart},
            },
        }
    }
