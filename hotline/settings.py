"""Settings of the hotline assistant (a section of the one settings object, ``POLICY_HOTLINE__*``)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, model_validator

# A character of a transcript takes at most 12 bytes of a JSON body (an astral character as two \\u escapes);
# the rest of the body (keys, FunASR's time stamps) gets this much room on top.
BYTES_PER_CHAR = 12
BODY_OVERHEAD = 4096


class HotlineSettings(BaseModel):
    """Limits on what an operator's console may send, its bootstrap key, and how past cases refine departments."""

    max_chars: int = Field(
        100_000, ge=100, le=1_000_000, description="longest transcript accepted, in characters (text or JSON)"
    )
    max_questions: int = Field(8, ge=1, le=50, description="most caller questions answered for one call")
    max_body_bytes: int = Field(
        1_204_096,
        ge=16_384,
        le=20_000_000,
        description="largest body on /api/hotline/* (413 beyond): at least 12 bytes a MAX_CHARS character + 4096",
    )
    api_key: SecretStr = Field(
        SecretStr(""),
        description="X-API-Key of the bootstrap operator; empty: loopback clients are operators (the make run default)",
    )
    similar_cases: int = Field(3, ge=0, le=10, description="similar past cases shown for a call")
    case_min_score: float = Field(
        0.9, ge=0, le=1, description="cosine similarity from which a past case's department counts for the call"
    )
    max_segments: int = Field(2000, ge=10, le=100_000, description="most segments one live call may hold")
    warm_up: bool = Field(
        True, description="load the model, classifier and past cases in the background at start (not on the first call)"
    )

    @model_validator(mode="after")
    def _body_cap_fits_a_transcript(self) -> HotlineSettings:
        needed = BYTES_PER_CHAR * self.max_chars + BODY_OVERHEAD
        if self.max_body_bytes < needed:
            limit = f"POLICY_HOTLINE__MAX_CHARS={self.max_chars}"
            raise ValueError(f"POLICY_HOTLINE__MAX_BODY_BYTES must be at least {needed} for {limit}")
        return self
