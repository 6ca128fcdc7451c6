"""Alembic's entry point for the knowledge tree (run by knowledge.migrations, never by an ini file)."""

from knowledge.migrations import run_env

run_env()
