"""Alembic's entry point for the monitor tree (run by monitor.migrations, never by an ini file)."""

from knowledge.migrations import run_env

run_env()
