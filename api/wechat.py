"""wechat channel (being written)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from .settings import AppSettings

router = APIRouter()


@asynccontextmanager
async def lifespan(app: FastAPI, settings: AppSettings) -> AsyncIterator[None]:
    yield
