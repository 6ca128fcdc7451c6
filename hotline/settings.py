"""Settings of the hotline assistant (a section of the one settings object, ``POLICY_HOTLINE__*``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HotlineSettings(BaseModel):
    """Limits on what an operator's console may send."""

    max_chars: int = Field(
        100_000, ge=100, le=1_000_000, description="longest transcript accepted, in characters (text or JSON)"
    )
    max_questions: int = Field(8, ge=1, le=50, description="most caller questions answered for one call")
