"""Dependency aliases: routes get the shared objects the lifespan built."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from knowledge.store import DocumentStore

from .assistant import Assistant
from .settings import AppSettings


def _assistant(request: Request) -> Assistant:
    return request.app.state.assistant  # type: ignore[no-any-return]


def _settings(request: Request) -> AppSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _store(request: Request) -> DocumentStore:
    return request.app.state.store  # type: ignore[no-any-return]


StoreDep = Annotated[DocumentStore, Depends(_store)]
AssistantDep = Annotated[Assistant, Depends(_assistant)]
SettingsDep = Annotated[AppSettings, Depends(_settings)]
