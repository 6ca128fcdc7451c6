"""Loaded at start-up by every Python process the tests start (PYTHONPATH): the loopback-only guard."""

import loopback_guard

loopback_guard.install_from_environment()
