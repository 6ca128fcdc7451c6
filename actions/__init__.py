"""Rasa custom actions for the 政策咨询助手: answers with citations, clarification, handoff, complaints."""
