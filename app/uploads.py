"""Request bodies that are JSON, or multipart with files beside the same fields (tips and their
attachments, 阳光问廉 and its photos): parsed into the route's model and a list of uploads, with
the same Chinese validation problems either way."""

from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from app.errors import LianyunError
from app.routing import MALFORMED_JSON, json_or_malformed

M = TypeVar("M", bound=BaseModel)
MAX_FIELD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Files:
    """The files a route takes: their form field, how many, how large, and in words."""

    field: str
    max_files: int
    max_file_bytes: int
    description: str


class FormInvalid(LianyunError):
    status = 422
    code = "form_invalid"
    title = "表单有误"


def _parser(request: Request, files: Files) -> MultiPartParser:
    parser = MultiPartParser(
        request.headers,
        request.stream(),
        max_files=files.max_files + 15,  # each domain refuses one too many, in Chinese
        max_fields=20,
        max_part_size=MAX_FIELD_BYTES,
    )
    # Files stay in memory (the body limit bounds them): no plain copy ever touches the disk.
    parser.spool_max_size = (files.max_files + 1) * files.max_file_bytes
    return parser


async def parse_body(
    request: Request, model: type[M], files: Files, *, invalid: type[LianyunError] = FormInvalid
) -> tuple[M, list[Upload]]:
    """The body as `model`, and the uploaded files of `files.field` (none for JSON)."""
    uploads: list[Upload] = []
    fields: Any
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            form = await _parser(request, files).parse()
        except MultiPartException as exc:
            raise invalid(
                f"表单格式不对、字段太长或文件太多（最多 {files.max_files} 个）。"
            ) from exc
        fields = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name == files.field and (value.filename or value.size):
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


def body_schema(model: type[BaseModel], files: Files) -> dict[str, Any]:
    """OpenAPI `requestBody` for a route that takes JSON or multipart with files."""
    schema = model.model_json_schema()
    multipart = {
        **schema,
        "properties": {
            **schema["properties"],
            files.field: {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "maxItems": files.max_files,
                "description": files.description,
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


class _NoFields(BaseModel):
    model_config = ConfigDict(extra="ignore")


def one_file(files: Files, *, missing: type[LianyunError]) -> Any:
    """A dependency: the single file a route takes in `files.field` (multipart), in memory."""

    async def dependency(request: Request) -> Upload:
        _, uploads = await parse_body(request, _NoFields, files, invalid=missing)
        if len(uploads) != 1:
            raise missing(f"请在 multipart/form-data 的 {files.field} 字段上传一个文件。")
        return uploads[0]

    return dependency


def file_body(files: Files) -> dict[str, Any]:
    """OpenAPI `requestBody` for a route that takes one file in a multipart form."""
    field = {"type": "string", "format": "binary", "description": files.description}
    schema = {"type": "object", "required": [files.field], "properties": {files.field: field}}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }
