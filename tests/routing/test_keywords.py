"""Keyword rules read through libraries: Snowball stems per language, typos by rapidfuzz."""

from __future__ import annotations

from config.routing_file import load_routing_text
from routing.router import Router

ROUTING = """\
fallback: general
departments:
  - {key: roads, name: Roads, desk: web, keywords: [parking, pothole]}
  - {key: parks, name: Parks, desk: web, keywords: [park]}
  - {key: waste, name: Residuos, desk: web, keywords: [recogida]}
  - {key: general, name: Citizen Services, desk: web}
"""


def keyword_router() -> Router:
    """A router over roads, parks, a Spanish-keyword waste department and the fallback; keywords only."""
    return Router(load_routing_text(ROUTING, "routing.yaml"), encoder=None)


def test_a_word_matches_a_keyword_through_its_stem_in_the_message_language() -> None:
    """Spanish "recoger" meets the keyword "recogida" through the Spanish stemmer."""
    decision = keyword_router().route("No vinieron a recoger la basura", language="es")
    assert (decision.department, "'recogida' (as 'recoger')" in decision.reason) == ("waste", True)


def test_a_keyword_written_in_the_message_is_not_claimed_by_a_shorter_stem() -> None:
    """The keyword "parking" is the roads keyword itself; the parks keyword "park" does not also claim it."""
    assert keyword_router().route("Parking on the pavement again").department == "roads"


def test_a_word_whose_stem_two_departments_share_makes_the_router_ask() -> None:
    """The word "parked" stems like both "parking" and "park", written as neither: the citizen chooses."""
    decision = keyword_router().route("Cars parked across the gate again")
    assert (decision.department, decision.candidates) == (None, ("roads", "parks"))


def test_a_typo_is_named_in_the_reason() -> None:
    """A keyword found despite a typo says so, so an admin sees why it matched."""
    assert "'pothole' (as 'pothoel', a typo)" in keyword_router().route("The pothoel is deep").reason
