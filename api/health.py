"""``/healthz``: Rasa, action server, index and store, each with its status."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from knowledge.index import MANIFEST, current_generation
from knowledge.store import DocumentStore

from .deps import AssistantDep, SettingsDep, StoreDep

router = APIRouter()


def _index_status(settings: Any) -> dict[str, Any]:
    generation = current_generation(settings.index.dir)
    if generation is None:
        return {"ok": False, "detail": "no index yet"}
    manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    ok = manifest["model"] == settings.index.model
    return {"ok": ok, "model": manifest["model"], "chunks": manifest["count"], "documents": len(manifest["documents"])}


def _store_status(store: DocumentStore) -> dict[str, Any]:
    try:
        return {"ok": True, "documents": store.count()}
    except Exception as error:  # noqa: BLE001 - any database failure is reported, not raised
        return {"ok": False, "detail": type(error).__name__}


@router.get("/healthz", summary="Status of Rasa, the action server, the index and the store")
async def healthz(settings: SettingsDep, assistant: AssistantDep, store: StoreDep) -> JSONResponse:
    checks = {
        "rasa": {"ok": await assistant.rasa.healthy(f"{settings.rasa.url.rstrip('/')}/")},
        "actions": {"ok": await assistant.rasa.healthy(f"{settings.rasa.actions_url.rstrip('/')}/health")},
        "index": _index_status(settings),
        "store": _store_status(store),
    }
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse({"status": "ok" if ok else "degraded", **checks}, status_code=200 if ok else 503)
