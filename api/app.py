"""``create_app(settings)``: the FastAPI app, its lifespan, routers and edge (body cap, error handlers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import chat, health, telegram, wechat
from .edge import BodyLimit
from .errors import error_responses, install_error_handlers
from .services import open_services
from .settings import AppSettings


def create_app(settings: AppSettings) -> FastAPI:
    """Build the app; the shared services (api/services.py) and the channels open in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            async with wechat.lifespan(app, services), telegram.lifespan(app, services):
                yield

    app = FastAPI(
        title="政策咨询助手 API",
        version="0.1.0",
        lifespan=lifespan,
        responses=error_responses(413, 500),  # every route: the body cap and the catch-all handler
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.server.max_body_bytes)
    app.include_router(health.router)
    app.include_router(chat.build_router(settings.chat.max_chars))
    app.include_router(wechat.router)
    app.include_router(telegram.router)
    app.mount("/static", StaticFiles(directory=chat.STATIC), name="static")
    return app
