"""README's settings table and the settings code stay in sync: every variable documented, none invented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from api.settings import AppSettings

README = Path(__file__).resolve().parents[1] / "README.md"


def settings_variables(model: type[BaseModel], prefix: str = "POLICY_") -> Iterator[str]:
    """Environment variable names of every leaf setting, e.g. POLICY_INDEX__MODEL."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from settings_variables(annotation, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}"


def test_readme_documents_exactly_the_settings() -> None:
    documented = set(re.findall(r"^\| `(POLICY_[A-Z_]+)` \|", README.read_text("utf-8"), re.MULTILINE))
    assert documented == set(settings_variables(AppSettings))


def test_readme_defaults_match_the_code() -> None:
    rows = dict(re.findall(r"^\| `(POLICY_[A-Z_]+)` \| `([^`]*)` \|", README.read_text("utf-8"), re.MULTILINE))
    settings = AppSettings()
    for variable, default in rows.items():
        value: object = settings
        for part in variable.removeprefix("POLICY_").lower().split("__"):
            value = getattr(value, part)
        shown = "" if hasattr(value, "get_secret_value") else str(value)
        assert default == shown, variable
