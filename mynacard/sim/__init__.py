"""A faithful simulated My Number Card, its test PKI, card profiles, and a vpcd client.

See docs/internal-api.md ("mynacard/sim") and the spec sections cited in each module.
"""

from __future__ import annotations

from mynacard.sim.anchors import export_trust_anchors, sim_trust_anchors
from mynacard.sim.card import CONTACT_ATR, CardPoweredOffError, SimOptions, SimulatedCard
from mynacard.sim.connection import SimulatedConnection
from mynacard.sim.profile import CardProfile, ProfileError, demo_profile, load_profile

__all__ = [
    "CONTACT_ATR",
    "CardPoweredOffError",
    "CardProfile",
    "ProfileError",
    "SimOptions",
    "SimulatedCard",
    "SimulatedConnection",
    "demo_profile",
    "export_trust_anchors",
    "load_profile",
    "sim_trust_anchors",
]
