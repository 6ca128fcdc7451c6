"""Rasa's CPU per turn, in-process: the NLU parse, and reading and writing a session's tracker as it grows.

    TF_INTRA_OP_PARALLELISM_THREADS=1 TF_INTER_OP_PARALLELISM_THREADS=1 \\
        .venv-rasa/bin/python bench/rasa_cost.py [--model var/models/policy-assistant.tar.gz]

Runs in the Rasa environment (Python 3.10), like ``bot/``: nothing else imports rasa. The tracker rows
replay what a turn of action_answer_policy_question adds to a session (the question, the action, the
reply, two slots, action_listen) and time one fetch, one ``current_state`` (what Rasa sends the action
server) and one save of the in-memory tracker store, which Rasa does more than once per turn. A session
that lives through a long bench phase makes every later turn dearer (bench/load.py --session-turns).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rasa.core.agent import Agent  # noqa: E402
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COLLOQUIAL = ROOT / "bench" / "data" / "colloquial.jsonl"
SESSION_TURNS = (0, 100, 300, 600)
REPLY = "「每年9月1日至12月31日为集中缴费期，缴纳的是次年度的费用。」\n出处：《青禾县城乡居民基本医疗保险实施细则》" * 2


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def parse_cost(agent: Agent, questions: list[str]) -> None:
    for question in questions[:3]:
        await agent.parse_message(question)  # TensorFlow's first calls build their graphs
    cpu = []
    for question in questions:
        started = time.process_time()
        await agent.parse_message(question)
        cpu.append(time.process_time() - started)
    mean = 1000 * statistics.fmean(cpu)
    print(f"NLU parse CPU ms       p50 {ms(cpu, 50):5.1f}  p95 {ms(cpu, 95):5.1f}  mean {mean:5.1f}")


async def tracker_cost(agent: Agent, questions: list[str]) -> None:
    processor, sender = agent.processor, "rasa-cost"
    for turn in range(max(SESSION_TURNS) + 1):
        if turn in SESSION_TURNS:
            started = time.process_time()
            for _ in range(5):
                tracker = await processor.fetch_tracker_and_update_session(sender)
                json.dumps(tracker.current_state())
                await processor.save_tracker(tracker)
            took = (time.process_time() - started) / 5
            events = len(tracker.events)
            print(f"after {turn:4} turns ({events:5} events): fetch + state + save {1000 * took:6.1f} ms CPU")
        tracker = await processor.fetch_tracker_and_update_session(sender)
        question = questions[turn % len(questions)]
        tracker.update(UserUttered(question, {"name": "ask_policy", "confidence": 1.0}))
        for event in (
            ActionExecuted("action_answer_policy_question"),
            BotUttered(REPLY, {"custom": {"reply": "answer"}}),
            SlotSet("last_question", question),
            SlotSet("current_doc_id", "qh-policy-resident-medical-insurance-2025"),
            ActionExecuted("action_listen"),
        ):
            tracker.update(event)
        await processor.save_tracker(tracker)


async def run(model: Path, count: int) -> None:
    agent = Agent.load(str(model))
    rows = [json.loads(line) for line in COLLOQUIAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [row["question"] for row in rows][:count]
    await parse_cost(agent, questions)
    await tracker_cost(agent, questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "var" / "models" / "policy-assistant.tar.gz")
    parser.add_argument("--questions", type=int, default=100, help="colloquial questions parsed (default 100)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    asyncio.run(run(args.model, args.questions))


if __name__ == "__main__":
    main()
