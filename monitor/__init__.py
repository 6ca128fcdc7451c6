"""Conversation log and opinion analysis."""
