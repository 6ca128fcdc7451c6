"""The API's settings: the knowledge settings plus Rasa, channels, limits and the conversation log."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from hotline.settings import HotlineSettings
from monitor.classify import ClassifySettings
from monitor.settings import MonitorSettings

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "your-token", "xxx", "token", "secret"})


class RasaSettings(BaseModel):
    """Where the Rasa server and the action server listen."""

    url: str = Field(
        "http://127.0.0.1:5005",
        description="Rasa server base URL (REST channel); several, comma-separated: a session sticks to one by hash",
    )
    actions_url: str = Field(
        "http://127.0.0.1:5055", description="action server base URL (for /healthz); several, comma-separated"
    )
    timeout_s: float = Field(15.0, gt=0, le=120, description="timeout of one Rasa call")

    @field_validator("url", "actions_url")
    @classmethod
    def _http_urls(cls, value: str) -> str:
        urls = [u.strip() for u in value.split(",") if u.strip()]
        if not urls or not all(u.startswith(("http://", "https://")) for u in urls):
            raise ValueError(f"comma-separated http(s) URLs expected, not {value!r}")
        return value

    @property
    def urls(self) -> list[str]:
        """The Rasa servers, in the order given (the order decides which server a session goes to)."""
        return [u.strip().rstrip("/") for u in self.url.split(",") if u.strip()]

    @property
    def actions_urls(self) -> list[str]:
        return [u.strip().rstrip("/") for u in self.actions_url.split(",") if u.strip()]


class ChatSettings(BaseModel):
    """Limits on citizen input."""

    max_chars: int = Field(500, ge=10, le=5000, description="longest message accepted")
    rate_limit: str = Field("30/minute", description="per-user limit (limits syntax, e.g. 30/minute)")
    address_rate_limit: str = Field(
        "300/minute", description="per client address limit on the web chat (a county office's NAT shares one)"
    )
    rate_storage: str = Field(
        "memory://",
        description="memory:// or redis://127.0.0.1:6379: rate limits, WeChat nonces and MsgIds (shared by processes)",
    )


class WeChatSettings(BaseModel):
    """WeChat official account (公众号) callback."""

    enabled: bool = Field(False, description="serve the /wechat callback")
    token: SecretStr = Field(SecretStr(""), description="the account's server-configuration token")
    app_id: str = Field("", description="AppID, for safe mode and the message API")
    app_secret: SecretStr = Field(SecretStr(""), description="AppSecret, for the customer-service message API")
    encoding_aes_key: SecretStr = Field(SecretStr(""), description="set for safe (AES) mode")
    api_base_url: str = Field("https://api.weixin.qq.com", description="customer-service message API base URL")
    reply_deadline_s: float = Field(4.5, gt=0, le=5, description="after this, reply 'success' and push later")

    @model_validator(mode="after")
    def _secrets(self) -> WeChatSettings:
        if self.enabled and self.token.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("POLICY_WECHAT__TOKEN must be set to the account's real token when WeChat is enabled")
        return self


class TelegramSettings(BaseModel):
    """Telegram bot."""

    enabled: bool = Field(False, description="serve /telegram/webhook")
    token: SecretStr = Field(SecretStr(""), description="bot token from BotFather")
    secret_token: SecretStr = Field(SecretStr(""), description="X-Telegram-Bot-Api-Secret-Token for the webhook")
    base_url: str = Field("https://api.telegram.org/bot", description="Bot API base URL")

    @model_validator(mode="after")
    def _secrets(self) -> TelegramSettings:
        if self.enabled and self.token.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("POLICY_TELEGRAM__TOKEN must be set when Telegram is enabled")
        return self


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="API listen address")
    port: int = Field(8000, ge=1, le=65535, description="API port (chat page at /)")
    max_body_bytes: int = Field(
        65_536, ge=16_384, le=10_485_760, description="largest request body accepted on any route (413 beyond)"
    )


class AccountSettings(BaseModel):
    """Staff accounts: sessions and login limits (users and keys: ``python -m api users|keys``)."""

    session_hours: float = Field(12.0, gt=0, le=720, description="how long a login lasts")
    secure_cookies: bool = Field(False, description="send the session cookie over HTTPS only (set true behind TLS)")
    login_rate_limit: str = Field("5/minute", description="login attempts per user name (limits syntax)")
    login_address_rate_limit: str = Field("20/minute", description="login attempts per client address")


class UploadSettings(BaseModel):
    """Knowledge managers' uploads (``/admin/upload``): where the files are kept and how large they may be."""

    dir: Path = Field(Path("var/uploads"), description="where uploaded files are kept, one folder per content hash")
    max_file_bytes: int = Field(
        20_971_520, ge=1024, le=1_073_741_824, description="largest file accepted in an upload (413 beyond)"
    )
    max_request_bytes: int = Field(
        104_857_600, ge=65_536, le=4_294_967_296, description="largest upload request, every file together (413 beyond)"
    )
    max_files: int = Field(100, ge=1, le=1000, description="most files in one upload (413 beyond)")

    @model_validator(mode="after")
    def _file_fits_a_request(self) -> UploadSettings:
        if self.max_file_bytes > self.max_request_bytes:
            raise ValueError("POLICY_UPLOAD__MAX_FILE_BYTES must not exceed POLICY_UPLOAD__MAX_REQUEST_BYTES")
        return self


class AppSettings(MonitorSettings):
    """Everything the API process needs, from ``POLICY_*`` environment variables (the log's are MonitorSettings')."""

    rasa: RasaSettings = RasaSettings()
    chat: ChatSettings = ChatSettings()
    wechat: WeChatSettings = WeChatSettings()
    telegram: TelegramSettings = TelegramSettings()
    server: ServerSettings = ServerSettings()
    hotline: HotlineSettings = HotlineSettings()
    classify: ClassifySettings = ClassifySettings()
    accounts: AccountSettings = AccountSettings()
    upload: UploadSettings = UploadSettings()

    @model_validator(mode="after")
    def _body_cap_fits_a_message(self) -> AppSettings:
        needed = 12 * self.chat.max_chars + 1024  # the longest message, JSON-escaped as \\u surrogate pairs
        if self.server.max_body_bytes < needed:
            raise ValueError(f"POLICY_SERVER__MAX_BODY_BYTES must be at least {needed} for POLICY_CHAT__MAX_CHARS")
        return self
