"""``/healthz``: Rasa, action server, index and store, each with its status."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from knowledge.errors import IndexMismatch
from knowledge.index import MANIFEST, check_generation, current_generation
from knowledge.store import DocumentStore

from .deps import AssistantDep, SettingsDep, StoreDep

router = APIRouter()


def _index_status(settings: Any) -> dict[str, Any]:
    """What the action servers' loader would say of CURRENT: the same check (knowledge.index.check_generation)."""
    generation = current_generation(settings.index.dir)
    if generation is None:
        return {"ok": False, "detail": "no index yet"}
    try:
        stamp = (generation / MANIFEST).stat().st_mtime_ns
        return dict(_checked(str(generation), settings.index.model, stamp))
    except IndexMismatch as error:
        detail = error.message.replace(str(generation), generation.name)  # no server paths in a public reply
        return {"ok": False, "generation": generation.name, "detail": detail}
    except (OSError, ValueError, KeyError, RuntimeError) as error:  # unreadable or half-written files
        return {"ok": False, "generation": generation.name, "detail": type(error).__name__}


@lru_cache(maxsize=8)
def _checked(generation: str, model: str, stamp: int) -> dict[str, Any]:
    """A generation never changes once published: check it once (``stamp`` guards against edits)."""
    manifest = check_generation(Path(generation), model)
    return {
        "ok": True, "model": manifest.model, "chunks": manifest.count, "documents": len(manifest.documents),
        "generation": manifest.generation.name, "revision": manifest.revision,
    }


def _store_status(store: DocumentStore) -> dict[str, Any]:
    try:
        return {"ok": True, "documents": store.count()}
    except Exception as error:  # noqa: BLE001 - any database failure is reported, not raised
        return {"ok": False, "detail": type(error).__name__}


@router.get(
    "/healthz",
    summary="Status of Rasa, the action server, the index and the store",
    responses={503: {"description": "Degraded: the same report, with the failing parts' ok false"}},
)
async def healthz(settings: SettingsDep, assistant: AssistantDep, store: StoreDep) -> JSONResponse:
    checks = {
        "rasa": {"ok": await assistant.rasa.all_healthy([f"{url}/" for url in settings.rasa.urls])},
        "actions": {"ok": await assistant.rasa.all_healthy([f"{url}/health" for url in settings.rasa.actions_urls])},
        "index": _index_status(settings),
        "store": _store_status(store),
    }
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse({"status": "ok" if ok else "degraded", **checks}, status_code=200 if ok else 503)
