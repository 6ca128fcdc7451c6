"""The WeChat official-account API behind a small class: access token (cached) and customer-service text."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

log = logging.getLogger(__name__)

# errcodes meaning "this access_token is no longer good": fetch a new one and try again
STALE_TOKEN = frozenset({40001, 40014, 42001})
TOKEN_MARGIN_S = 300  # renew a little before WeChat's expiry


class WeChatApiError(Exception):
    """WeChat answered with a non-zero errcode (or not at all)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatApi:
    """``GET /cgi-bin/token`` and ``POST /cgi-bin/message/custom/send``; the base URL is a setting."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        secret: str,
        client: httpx.AsyncClient,
        attempts: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"WeChat API base URL must be http(s): {base_url!r}")
        if not app_id or not secret:
            raise ValueError("WeChat app_id and app_secret are needed for the customer-service message API")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = secret
        self.client = client
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._token = ""
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def access_token(self) -> str:
        """The cached access token, fetched again shortly before it expires."""
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            data = await self._call(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self._secret,
                },
            )
            token = str(data.get("access_token") or "")
            if not token:
                raise WeChatApiError(-1, "no access_token in the answer")
            lifetime = float(data.get("expires_in") or 7200)
            self._token = token
            self._expires_at = time.monotonic() + max(lifetime - TOKEN_MARGIN_S, lifetime / 2)
            return token

    def forget_token(self, token: str) -> None:
        if self._token == token:
            self._token, self._expires_at = "", 0.0

    async def send_text(self, openid: str, content: str) -> None:
        """A customer-service text message; retried a few times, then the last error is raised."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        last: WeChatApiError | None = None
        for attempt in range(1, self.attempts + 1):
            token = ""
            try:
                token = await self.access_token()
                await self._call("POST", "/cgi-bin/message/custom/send", params={"access_token": token}, json=body)
                return
            except WeChatApiError as error:
                last = error
                if error.errcode in STALE_TOKEN:
                    self.forget_token(token)
                log.warning("WeChat send failed (attempt %d/%d): %s", attempt, self.attempts, error)
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff_s * attempt)
        assert last is not None
        raise last

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.client.request(method, f"{self.base_url}{path}", **kwargs)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            # the error names the path only: the query holds the secret or the token
            raise WeChatApiError(-1, f"{path}: {type(error).__name__}") from None
        if not isinstance(data, dict):
            raise WeChatApiError(-1, f"{path}: unexpected answer")
        errcode = int(data.get("errcode") or 0)
        if errcode != 0:
            raise WeChatApiError(errcode, str(data.get("errmsg") or ""))
        return data
