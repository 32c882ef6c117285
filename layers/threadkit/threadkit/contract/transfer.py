"""Wire models of what this API adds to OpenAI's: the list of threads, and whole threads moved in and out.

An import takes a thread and its messages in the shapes OpenAI returned them (``threads.retrieve`` and the
``data`` of ``messages.list`` pages, or a page itself), so a dump imports as it is; an export answers the same
document, messages ascending, a page at a time. Keys OpenAI returned that this API does not keep (``object``,
``thread_id``, the page's cursors) are read and ignored; every kept field is checked as strictly as a create.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from threadkit.contract.models import (
    MAX_CONTENT_PARTS,
    AttachmentOut,
    IncompleteDetails,
    Message,
    MessageContent,
    Metadata,
    Role,
    Thread,
    ToolResources,
    _Body,
    _check_metadata,
    _Response,
)

MAX_IMPORT_ID_LENGTH = 128
MAX_EXPORT_LIMIT = 1000
DEFAULT_EXPORT_LIMIT = 1000
LATEST_CREATED_AT = 9_999_999_999

Timestamp = Annotated[int, Field(ge=0, le=LATEST_CREATED_AT)]


class _Imported(BaseModel):
    """An object as OpenAI returned it: keys this API does not keep are ignored, the kept ones checked."""

    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True)


class ImportedThread(_Imported):
    id: str | None = Field(
        default=None, description="Kept when given: `thread_` and 24 letters or digits, as OpenAI's were."
    )
    created_at: Timestamp | None = Field(default=None, description="Kept; now when absent.")
    metadata: Metadata | None = None
    tool_resources: ToolResources | None = None

    @field_validator("metadata", mode="after")
    @classmethod
    def _metadata(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return _check_metadata(value)


class ImportedMessage(_Imported):
    id: str = Field(
        min_length=1, max_length=MAX_IMPORT_ID_LENGTH, description="The message's id where it was."
    )
    created_at: Timestamp
    role: Role
    content: list[MessageContent] = Field(max_length=MAX_CONTENT_PARTS)
    attachments: list[AttachmentOut] | None = None
    metadata: Metadata | None = None
    assistant_id: str | None = Field(default=None, max_length=MAX_IMPORT_ID_LENGTH)
    run_id: str | None = Field(default=None, max_length=MAX_IMPORT_ID_LENGTH)
    status: Literal["in_progress", "incomplete", "completed"] = "completed"
    incomplete_details: IncompleteDetails | None = None
    completed_at: Timestamp | None = None
    incomplete_at: Timestamp | None = None

    @field_validator("metadata", mode="after")
    @classmethod
    def _metadata(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return _check_metadata(value)


def _page_data(value: Any) -> Any:
    """A list page (``{"object": "list", "data": [...]}``) stands for its ``data``."""
    if isinstance(value, dict) and "data" in value:
        return value["data"]
    return value


class ImportThreadRequest(_Body):
    """Body of ``POST /v1/threads/import``: a thread and all its messages, as OpenAI returned them."""

    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True)

    thread: ImportedThread
    messages: list[ImportedMessage] = Field(
        description="The thread's messages in either order (or a list page of them): stored in `created_at` "
        "order, ties in the order given (reversed first when the document runs newest first)."
    )

    more: bool = Field(
        default=False,
        description="More parts of this thread follow (for a thread too large for one request): the thread "
        "stays invisible, and the answer's `import_token` continues the import.",
    )
    import_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Continues the import that answered it: send the thread's next part, oldest first, "
        "within 15 minutes of the last.",
    )

    @model_validator(mode="before")
    @classmethod
    def _unwrap_page(cls, data: Any) -> Any:
        if isinstance(data, dict) and "messages" in data:
            return {**data, "messages": _page_data(data["messages"])}
        return data


class ThreadImported(_Response):
    thread: Thread
    message_ids: dict[str, str] = Field(description="Each given message id and the id it has here.")
    import_token: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Only while more parts are to come: what the next part sends.",
    )


class ThreadList(_Response):
    object: Literal["list"] = "list"
    data: list[Thread]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ThreadExport(_Response):
    """One page of a thread's export: the document ``POST /v1/threads/import`` takes."""

    object: Literal["thread.export"] = "thread.export"
    thread: Thread
    messages: list[Message]
    has_more: bool
    last_id: str | None
