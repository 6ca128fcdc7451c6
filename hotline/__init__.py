"""The hotline operator assistant: call transcripts → turns, the caller's questions, suggestions, draft work orders."""
