"""A routing file and answers file the saved-answers tests share."""

from __future__ import annotations

from bot.saved_answers import SavedAnswers
from config.answers_file import load_answers_text
from config.routing_file import RoutingConfig, load_routing_text

ROUTING = load_routing_text(
    """\
fallback: general
departments:
  - {key: roads, name: Roads & Transport, desk: web, keywords: [pothole]}
  - {key: waste, name: Waste & Recycling, slack_channel: C0WASTE, keywords: [bin]}
  - {key: general, name: Citizen Services, desk: web}
""",
    "routing.yaml",
)

ANSWERS_YAML = """\
answers:
  - key: received
    title: Report received
    text:
      en: "Thank you, {citizen_name}. {department} has your report {reference}."
      es: "Gracias, {citizen_name}. {department} tiene su aviso {reference}."
  - key: bin-day
    title: Collection day
    departments: [waste]
    text:
      en: "Bins in your street are collected on Tuesdays ({reference})."
"""


def answers(routing: RoutingConfig = ROUTING) -> SavedAnswers:
    """The shared answers, validated against ``routing``."""
    return load_answers_text(ANSWERS_YAML, "answers.yaml", routing)
