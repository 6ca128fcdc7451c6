"""Settings of the citizen records: the knowledge settings plus the conversation log and the work orders."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from knowledge.settings import Settings

from .classify import ClassifySettings


class LogSettings(BaseModel):
    """The conversation log."""

    url: str = Field("", description="SQLAlchemy URL of the conversation log; empty: the store's URL")
    salt: SecretStr = Field(
        SecretStr(""), description="salt for hashing user ids; empty: a random one kept in var/log-salt"
    )
    spool: str = Field(
        "var/log-spool.jsonl", description="where turns wait when the log database is down (one file per process)"
    )


class WorkOrderSettings(BaseModel):
    """Work orders (工单), stored in the store's database."""

    outbox: str = Field(
        "var/workorder-outbox.jsonl",
        description="where work orders wait when their database is down (one file per process, replayed)",
    )


class MessageSettings(BaseModel):
    """Citizen messages imported from 问政 platforms and mailboxes (``python -m monitor import``)."""

    embed_chars: int = Field(
        64, ge=16, le=2000, description="characters of 主题 + 详情 embedded once per imported message"
    )


class MonitorSettings(Settings):
    """What the processes that write citizen records need (action server, API, ``python -m monitor``)."""

    conversation_log: LogSettings = LogSettings()
    work_orders: WorkOrderSettings = WorkOrderSettings()
    messages: MessageSettings = MessageSettings()
    classify: ClassifySettings = ClassifySettings()  # the report's 事项分类 and departments, as the hotline's

    @property
    def log_url(self) -> str:
        """The conversation log's database: its own URL, or the store's."""
        return self.conversation_log.url or self.store.url
