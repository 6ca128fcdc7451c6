"""Dependency aliases: routes get the shared services the lifespan opened (api/services.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from knowledge.store import DocumentStore

from .assistant import Assistant
from .services import Services
from .settings import AppSettings


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _assistant(request: Request) -> Assistant:
    return _services(request).assistant


def _settings(request: Request) -> AppSettings:
    return _services(request).settings


def _store(request: Request) -> DocumentStore:
    return _services(request).store


def limit_address(request: Request) -> None:
    """Count the request against its client address's limit (behind a proxy: the forwarded address)."""
    address = request.client.host if request.client is not None else "unknown"
    _services(request).address_limiter.check(address)


ServicesDep = Annotated[Services, Depends(_services)]
StoreDep = Annotated[DocumentStore, Depends(_store)]
AssistantDep = Annotated[Assistant, Depends(_assistant)]
SettingsDep = Annotated[AppSettings, Depends(_settings)]
AddressLimit = Depends(limit_address)
