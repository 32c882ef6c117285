"""Wire models: what a client sends and what it gets back.

Request models are strict (no coercion, unknown keys rejected) so that Powertools' validation catches
exactly what OpenAI rejected; ``validation.py`` turns their errors into OpenAI's wording. Checks that
pydantic cannot express as a constraint raise ``api_error`` custom errors carrying the client-facing error.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from threadkit.contract import errors

MAX_TEXT_LENGTH = 256_000
MAX_ATTACHMENTS = 10
MAX_CONTENT_PARTS = 1000
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 512
DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100

_PLAIN_INTEGER = re.compile(r"-?[0-9]+")


def _plain_integer(value: Any) -> Any:
    """A query integer is written in plain decimal digits, as OpenAI read it: ``1.0``, ``10_0``, ``+1`` or
    `` 1`` are not integers (pydantic alone would take them)."""
    if isinstance(value, str) and not _PLAIN_INTEGER.fullmatch(value):
        raise PydanticCustomError("int_parsing", "Input should be a valid integer")
    return value


PLAIN_INTEGER = BeforeValidator(_plain_integer)
"""Marks an integer query parameter (``limit``): ``Annotated[int, PLAIN_INTEGER, Query(...)]``."""

Role = Literal["user", "assistant"]
ImageDetail = Literal["auto", "low", "high"]
Order = Literal["asc", "desc"]


def api_error(error: errors.ApiError) -> PydanticCustomError:
    """A pydantic error that carries a finished client-facing error (see ``validation.py``)."""
    return PydanticCustomError("api_error", "{message}", {"message": error.message, "api_error": error})


def _tag_of_type(value: Any) -> str | None:
    """Discriminates content parts and tools by their ``type``; None (an error) when it is absent."""
    if isinstance(value, dict):
        kind = value.get("type")
        return f"<{kind}>" if isinstance(kind, str) else None
    return getattr(value, "type", None) and f"<{value.type}>"


def _tag_of_content(value: Any) -> str | None:
    if isinstance(value, str):
        return "<string>"
    if isinstance(value, list):
        return "<parts>"
    return None


# Every model builds its validator when first used, not when this module is imported: a function builds the
# few models it uses, once, and its cold start pays for no other (pydantic's ``defer_build``).


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


# --- content parts, as sent ---------------------------------------------------------------------------------


class TextPartParam(_Request):
    type: Literal["text"]
    text: str = Field(description="The text, 1 to 256,000 characters.", max_length=MAX_TEXT_LENGTH)


class ImageUrl(_Request):
    url: str = Field(description="An http or https URL of the image.")
    detail: ImageDetail = "auto"

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url) if url.isprintable() and " " not in url else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise PydanticCustomError("url_invalid", "Expected an http or https URL")
        return url


class ImageUrlPart(_Request):
    type: Literal["image_url"]
    image_url: ImageUrl


class ImageFile(_Request):
    file_id: str = Field(min_length=1)
    detail: ImageDetail = "auto"


class ImageFilePart(_Request):
    type: Literal["image_file"]
    image_file: ImageFile


ContentPartParam = Annotated[
    Annotated[TextPartParam, Tag("<text>")]
    | Annotated[ImageUrlPart, Tag("<image_url>")]
    | Annotated[ImageFilePart, Tag("<image_file>")],
    Discriminator(_tag_of_type),
]

MessageContentParam = Annotated[
    Annotated[str, Tag("<string>"), Field(max_length=MAX_TEXT_LENGTH)]
    | Annotated[list[ContentPartParam], Tag("<parts>"), Field(max_length=MAX_CONTENT_PARTS)],
    Discriminator(_tag_of_content),
    Field(
        description="A non-empty string, or a non-empty array of at most 1,000 text / image_url / image_file "
        "parts."
    ),
]


# --- attachments --------------------------------------------------------------------------------------------


class CodeInterpreterTool(_Request):
    type: Literal["code_interpreter"]


class FileSearchTool(_Request):
    type: Literal["file_search"]


AttachmentTool = Annotated[
    Annotated[CodeInterpreterTool, Tag("<code_interpreter>")]
    | Annotated[FileSearchTool, Tag("<file_search>")],
    Discriminator(_tag_of_type),
]


class Attachment(_Request):
    file_id: str = Field(min_length=1)
    tools: list[AttachmentTool]


# --- metadata -----------------------------------------------------------------------------------------------


def _check_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    # The pair count is the field's max_length: validation.py words that error as OpenAI did.
    for key, item in value.items():
        if len(key) > MAX_METADATA_KEY_LENGTH:
            raise api_error(errors.property_name_too_long("metadata", MAX_METADATA_KEY_LENGTH, len(key)))
        if not key:
            raise api_error(errors.property_name_too_short("metadata", 1, 0))
        if len(item) > MAX_METADATA_VALUE_LENGTH:
            raise api_error(errors.string_too_long(f"metadata.{key}", MAX_METADATA_VALUE_LENGTH, len(item)))
    return value


Metadata = Annotated[
    dict[str, str],
    Field(
        description="Up to 16 pairs; keys of 1 to 64 characters, string values of up to 512 characters.",
        max_length=MAX_METADATA_PAIRS,
    ),
]


def _unpaired_surrogate_path(data: Any) -> str | None:
    """The param path of the first string (key or value) that is not valid Unicode, if any. Iterative:
    a body may nest far deeper than Python's recursion limit."""
    pending: list[tuple[Any, str]] = [(data, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if not _is_valid_unicode(value):
                return path
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                if isinstance(key, str) and not _is_valid_unicode(key):
                    return path or key
                children.append((item, f"{path}.{key}" if path else str(key)))
            pending.extend(reversed(children))
        elif isinstance(value, list):
            pending.extend(reversed([(item, f"{path}[{i}]") for i, item in enumerate(value)]))
    return None


def _is_valid_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Body(_Request):
    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        found = _unpaired_surrogate_path(data)
        if found is not None:
            raise api_error(errors.unpaired_surrogate(found))
        return data


# --- request bodies -----------------------------------------------------------------------------------------


class CreateMessageRequest(_Body):
    """Body of ``POST /v1/threads/{thread_id}/messages``."""

    role: Role = Field(description="Who wrote the message: `user` or `assistant`.")
    content: MessageContentParam
    attachments: list[Attachment] | None = Field(default=None, max_length=MAX_ATTACHMENTS)
    metadata: Metadata | None = None

    @field_validator("content")
    @classmethod
    def _non_empty(cls, content: str | list[Any]) -> str | list[Any]:
        if not content:
            raise api_error(errors.empty_content())
        if isinstance(content, list):
            for index, part in enumerate(content):
                if isinstance(part, TextPartParam) and not part.text:
                    raise api_error(errors.empty_content(f"content[{index}].text"))
        return content

    @field_validator("metadata", mode="after")
    @classmethod
    def _metadata(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return _check_metadata(value)


class ModifyMessageRequest(_Body):
    """Body of ``POST /v1/threads/{thread_id}/messages/{message_id}``."""

    metadata: Metadata | None = Field(
        default=None, description="Replaces the whole metadata map; `{}` clears it; null leaves it unchanged."
    )

    @field_validator("metadata", mode="after")
    @classmethod
    def _metadata(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return _check_metadata(value)


# --- responses ----------------------------------------------------------------------------------------------


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class TextValue(_Response):
    value: str
    annotations: list[dict[str, Any]]


class TextContent(_Response):
    type: Literal["text"]
    text: TextValue


class ImageUrlContent(_Response):
    type: Literal["image_url"]
    image_url: ImageUrl


class ImageFileContent(_Response):
    type: Literal["image_file"]
    image_file: ImageFile


MessageContent = Annotated[TextContent | ImageUrlContent | ImageFileContent, Field(discriminator="type")]


class AttachmentOut(_Response):
    file_id: str
    tools: list[dict[str, Any]]


class IncompleteDetails(_Response):
    reason: str


class Message(_Response):
    """The ``thread.message`` object, keys in the order OpenAI returned them."""

    id: str
    object: Literal["thread.message"] = "thread.message"
    created_at: int
    assistant_id: str | None
    thread_id: str
    run_id: str | None
    role: Role
    content: list[MessageContent]
    attachments: list[AttachmentOut]
    metadata: dict[str, str]
    status: Literal["in_progress", "incomplete", "completed"]
    incomplete_details: IncompleteDetails | None
    completed_at: int | None
    incomplete_at: int | None


class MessageList(_Response):
    object: Literal["list"] = "list"
    data: list[Message]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ErrorDetail(_Response):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(_Response):
    """Every error, from every route."""

    error: ErrorDetail


# --- threads ------------------------------------------------------------------------------------------------

MAX_THREAD_MESSAGES = 32
MAX_CODE_INTERPRETER_FILES = 20
MAX_VECTOR_STORES = 1


class CodeInterpreterResources(_Request):
    file_ids: list[str] = Field(default_factory=list, max_length=MAX_CODE_INTERPRETER_FILES)


class FileSearchResources(_Request):
    vector_store_ids: list[str] = Field(default_factory=list, max_length=MAX_VECTOR_STORES)


class ToolResources(_Request):
    """Resources for the assistant's tools; stored and echoed, not interpreted (no runs yet)."""

    code_interpreter: CodeInterpreterResources | None = None
    file_search: FileSearchResources | None = None


class CreateThreadRequest(_Body):
    """Body of ``POST /v1/threads``."""

    messages: list[CreateMessageRequest] | None = Field(
        default=None,
        max_length=MAX_THREAD_MESSAGES,
        description="Up to 32 messages to start the thread with, stored in this order, all or none.",
    )
    metadata: Metadata | None = None
    tool_resources: ToolResources | None = None

    @field_validator("metadata", mode="after")
    @classmethod
    def _metadata(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return _check_metadata(value)


class ModifyThreadRequest(_Body):
    """Body of ``POST /v1/threads/{thread_id}``."""

    metadata: Metadata | None = Field(
        default=None, description="Replaces the whole metadata map; `{}` clears it; null leaves it unchanged."
    )
    tool_resources: ToolResources | None = Field(
        default=None, description="Replaces the thread's tool resources; null leaves them unchanged."
    )

    @field_validator("metadata", mode="after")
    @classmethod
    def _metadata(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return _check_metadata(value)


class ToolResourcesOut(_Response):
    """Only the tools that have resources appear (``{}`` when none do), as OpenAI returned them."""

    code_interpreter: CodeInterpreterResources | None = None
    file_search: FileSearchResources | None = None

    @model_serializer(mode="wrap")
    def _present_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class Thread(_Response):
    """The ``thread`` object."""

    id: str
    object: Literal["thread"] = "thread"
    created_at: int
    metadata: dict[str, str]
    tool_resources: ToolResourcesOut


class MessageDeleted(_Response):
    id: str
    object: Literal["thread.message.deleted"] = "thread.message.deleted"
    deleted: Literal[True] = True


class ThreadDeleted(_Response):
    id: str
    object: Literal["thread.deleted"] = "thread.deleted"
    deleted: Literal[True] = True
