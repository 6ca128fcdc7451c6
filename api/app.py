"""``create_app(settings)``: the FastAPI app, its lifespan, routers and edge (body cap, error handlers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import admin, admin_upload, chat, health, hotline, kb_desk, login, reports, telegram, wechat
from .console import router as console_router
from .errors import error_responses, install_error_handlers
from .reports import router as reports_router
from .services import open_services
from .settings import AppSettings


def create_app(settings: AppSettings) -> FastAPI:
    """Build the app; the shared services (api/services.py) and the channels open in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            async with wechat.lifespan(app, services), telegram.lifespan(app, services), login.lifespan(app, settings):
                async with hotline.lifespan(app, services):  # the operator desk, loaded on first use
                    async with kb_desk.lifespan(app, services):  # the knowledge writer, opened on first write
                        async with reports.lifespan(app, services.settings):  # the report desk, closed with the app
                            yield

    app = FastAPI(
        title="政策咨询助手 API",
        version="0.1.0",
        lifespan=lifespan,
        responses=error_responses(413, 500),  # every route: the body cap and the catch-all handler
    )
    install_error_handlers(app)
    login.install_handlers(app)  # a browser refused a page is shown the login form
    app.add_middleware(  # the edge's cap; /api/hotline/* takes a whole call's transcript, /admin/upload files
        admin_upload.BodyLimits,
        max_bytes=settings.server.max_body_bytes,
        hotline_max_bytes=settings.hotline.max_body_bytes,
        upload_max_bytes=settings.upload.max_request_bytes,
    )
    app.include_router(health.router)
    app.include_router(login.router)  # /login, /logout, /api/auth/me
    hotline.install(app, settings.hotline)  # /api/hotline/*, the transcript's schema and errors
    app.include_router(console_router)  # /hotline, the operator console page
    app.include_router(reports_router)  # /reports, the analysts' opinion report page and downloads
    app.include_router(admin_upload.router)  # /admin/upload, the knowledge managers' upload with progress
    app.include_router(admin.router)  # /admin, the knowledge managers' pages: list, detail, edit, history, findings
    app.include_router(chat.build_router(settings.chat.max_chars))
    app.include_router(wechat.router)
    app.include_router(telegram.router)
    app.mount("/static", StaticFiles(directory=chat.STATIC), name="static")
    return app
