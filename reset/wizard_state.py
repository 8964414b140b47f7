"""The wizard's progress, kept in the session as a few primitives and timestamps.

Views and the face consumer both go through these functions, so the rules (order, maximum age,
what may be stored) live in one place. Nothing secret is ever put here: no PIN, no 照合番号B, no
photo (only its SHA-256, so the face consumer can recognise the photo the page sends back).
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from django.conf import settings

from mynacard.targets import TargetPassword

SESSION_KEY = "wizard"
# Set by cancel(), cleared by start(): the wizard ended at the resident's request.
CANCELLED_KEY = "wizard_cancelled"
VERSION = 1


class Step(StrEnum):
    """Wizard steps in the order the resident meets them (official app screens 2–8)."""

    CHOOSE = "choose"
    CARD_FACE = "card_face"
    READER = "reader"
    PASSWORD = "password"  # noqa: S105 - the name of a step, not a secret
    CHIP = "chip"
    FACE = "face"
    DONE = "done"


@dataclass(frozen=True)
class WizardState:
    """One resident's progress through the wizard."""

    target: str
    step: str
    started_at: float
    card_identity: str = ""
    signer_identity: str = ""  # the certificate that signed; the kiosk checks the same key
    photo_sha256: str = ""
    certificate_not_after: str = ""
    evidence_at: float = 0.0
    face_passed_at: float = 0.0
    face_distance: float = 0.0
    # "automatic", or "in_person" when a clerk completed the face step (staff/assisted_*.py)
    face_check: str = "automatic"
    # The known password's tries left as the card told the page (-1: not told). Only the terminal
    # of an assisted booking reports it, for the clerk's console (issue 12): a count, no secret.
    known_tries_left: int = -1
    # "More time" (WCAG 2.2.1): how often the resident asked, and the deadline it set; 0 = none yet.
    extensions: int = 0
    deadline_at: float = 0.0
    v: int = VERSION

    @property
    def step_enum(self) -> Step:
        return Step(self.step)

    @property
    def target_enum(self) -> TargetPassword:
        return TargetPassword(self.target)

    @property
    def deadline(self) -> float:
        """When the wizard expires: the default lifetime, or the last "more time" deadline."""
        return self.deadline_at or self.started_at + _max_age()

    def seconds_left(self, now: float | None = None) -> int:
        return max(0, int(self.deadline - (time.time() if now is None else now)))


Session = MutableMapping[str, Any]


def _max_age() -> int:
    return int(settings.MYNA_WIZARD_MAX_AGE_SECONDS)


def load(session: Session, *, now: float | None = None) -> WizardState | None:
    """The current state, or None when there is none, it is malformed or too old (then cleared)."""
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        state = WizardState(**raw)
        Step(state.step)
        TargetPassword(state.target)
    except (TypeError, ValueError):
        clear(session)
        return None
    current = time.time() if now is None else now
    if state.v != VERSION or current > state.deadline or current < state.started_at:
        clear(session)
        return None
    return state


def save(session: Session, state: WizardState) -> WizardState:
    session[SESSION_KEY] = asdict(state)
    return state


def start(session: Session, target: TargetPassword, *, now: float | None = None) -> WizardState:
    """Begin (or begin again) with a chosen target; any earlier progress is dropped."""
    started = time.time() if now is None else now
    session.pop(CANCELLED_KEY, None)
    state = WizardState(target=str(target), step=str(Step.CARD_FACE), started_at=started)
    return save(session, state)


def advance(session: Session, state: WizardState, *, expected: Step, to: Step) -> WizardState:
    """Move from `expected` to `to`; refuses when the resident is not at `expected`."""
    if state.step_enum != expected:
        raise StepError(expected=expected, actual=state.step_enum)
    return save(session, replace(state, step=str(to)))


#: The largest retry counter a My Number Card key has (署名用 5, 利用者証明用 3; spec §13).
MAX_REPORTED_TRIES = 16


def record_known_tries(session: Session, state: WizardState, tries_left: int) -> WizardState:
    """The page's report of the known password's tries left, once the card status was read."""
    if state.step_enum not in (Step.PASSWORD, Step.CHIP):
        raise StepError(expected=Step.PASSWORD, actual=state.step_enum)
    return save(session, replace(state, known_tries_left=tries_left))


def record_evidence(
    session: Session,
    state: WizardState,
    *,
    card_identity: str,
    photo_sha256: str,
    certificate_not_after: str,
    signer_identity: str = "",
    now: float | None = None,
) -> WizardState:
    """The server verified the chip evidence; the face check comes next."""
    if state.step_enum != Step.CHIP:
        raise StepError(expected=Step.CHIP, actual=state.step_enum)
    return save(
        session,
        replace(
            state,
            step=str(Step.FACE),
            card_identity=card_identity,
            signer_identity=signer_identity or card_identity,
            photo_sha256=photo_sha256,
            certificate_not_after=certificate_not_after,
            evidence_at=time.time() if now is None else now,
        ),
    )


def record_face_pass(
    session: Session, state: WizardState, *, distance: float, now: float | None = None
) -> WizardState:
    """The face check passed; the reservation can be created."""
    return _finish_face_step(session, state, now=now, face_distance=distance)


def _finish_face_step(
    session: Session, state: WizardState, *, now: float | None, **changes: Any
) -> WizardState:
    if state.step_enum != Step.FACE or not state.card_identity:
        raise StepError(expected=Step.FACE, actual=state.step_enum)
    passed_at = time.time() if now is None else now
    return save(session, replace(state, step=str(Step.DONE), face_passed_at=passed_at, **changes))


def record_in_person_check(
    session: Session, state: WizardState, *, now: float | None = None
) -> WizardState:
    """An assisted booking: after a failed face check, a clerk compared the resident with the
    chip photo in person (issue 12). Like a pass, it needs the verified chip evidence first."""
    if state.evidence_at <= 0:
        raise StepError(expected=Step.FACE, actual=state.step_enum)
    return _finish_face_step(session, state, now=now, face_check="in_person")


def max_extensions() -> int:
    return int(settings.MYNA_WIZARD_EXTENSIONS)


def extend(session: Session, state: WizardState, *, now: float | None = None) -> WizardState:
    """More time (WCAG 2.2.1): a full default lifetime from now, at most MYNA_WIZARD_EXTENSIONS
    times; the step and the progress stay as they are. The deadline never moves backwards."""
    if state.extensions >= max_extensions():
        raise ExtensionRefused("extension_limit")
    current = time.time() if now is None else now
    return save(
        session,
        replace(
            state,
            extensions=state.extensions + 1,
            deadline_at=max(state.deadline, current + _max_age()),
        ),
    )


def clear(session: Session) -> None:
    session.pop(SESSION_KEY, None)


def cancel(session: Session) -> None:
    """The resident abandoned the wizard: clear it, and remember that it was their choice, so
    that Back onto a wizard page does not say their time ran out."""
    clear(session)
    session[CANCELLED_KEY] = True


def was_cancelled(session: Session) -> bool:
    return bool(session.get(CANCELLED_KEY))


class StepError(Exception):
    """A request arrived for a step the resident is not at."""

    def __init__(self, *, expected: Step, actual: Step) -> None:
        super().__init__(f"expected step {expected}, at {actual}")
        self.expected = expected
        self.actual = actual


class ExtensionRefused(Exception):
    """The resident has used up the times the wizard may be extended."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


#: The steps the card page runs client-side; the page's memory (card-face items, PIN) is lost on
#: reload, so the resident re-enters them from the first of these (docs/wizard.md).
CARD_PAGE_STEPS: tuple[Step, ...] = (Step.CARD_FACE, Step.READER, Step.PASSWORD, Step.CHIP)


def rewind_card_page(session: Session, state: WizardState) -> WizardState:
    """Back to the card-face step when the card page is (re)loaded mid-way."""
    if state.step_enum not in CARD_PAGE_STEPS:
        raise StepError(expected=Step.CARD_FACE, actual=state.step_enum)
    return save(session, replace(state, step=str(Step.CARD_FACE)))
