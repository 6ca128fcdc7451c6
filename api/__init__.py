"""HTTP: web chat, WeChat, Telegram and health, in front of the Rasa assistant."""
