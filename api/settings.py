"""The API's settings: the knowledge settings plus Rasa, channels, limits and the conversation log."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, model_validator

from knowledge.settings import Settings

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "your-token", "xxx", "token", "secret"})


class RasaSettings(BaseModel):
    """Where the Rasa server and the action server listen."""

    url: str = Field("http://127.0.0.1:5005", description="Rasa server base URL (REST channel)")
    actions_url: str = Field("http://127.0.0.1:5055", description="action server base URL (for /healthz)")
    timeout_s: float = Field(15.0, gt=0, le=120, description="timeout of one Rasa call")


class ChatSettings(BaseModel):
    """Limits on citizen input."""

    max_chars: int = Field(500, ge=10, le=5000, description="longest message accepted")
    rate_limit: str = Field("30/minute", description="per-user limit (limits syntax, e.g. 30/minute)")
    rate_storage: str = Field("memory://", description="limits storage URI: memory:// or redis://127.0.0.1:6379")


class LogSettings(BaseModel):
    """The conversation log."""

    url: str = Field("", description="SQLAlchemy URL of the conversation log; empty: the store's URL")
    salt: SecretStr = Field(SecretStr(""), description="salt for hashing user ids; empty: a random one kept in var/log-salt")
    spool: str = Field("var/log-spool.jsonl", description="where turns wait when the log database is down")


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


class AppSettings(Settings):
    """Everything the API process needs, from ``POLICY_*`` environment variables."""

    rasa: RasaSettings = RasaSettings()
    chat: ChatSettings = ChatSettings()
    conversation_log: LogSettings = LogSettings()
    wechat: WeChatSettings = WeChatSettings()
    telegram: TelegramSettings = TelegramSettings()
    server: ServerSettings = ServerSettings()

    @property
    def log_url(self) -> str:
        return self.conversation_log.url or self.store.url
