"""One connected page: the command state machine, replies, and the card workflows it starts.

States (docs/bridge-protocol.md, "State machine"): ``NEW`` until HELLO, then ``READY``; while a
card workflow runs the session is ``BUSY`` and only GET_READERS, CANCEL and SIM_CARD are
accepted. Card work runs on the server's single card thread (pyscard blocks); messages to the
page go through one queue so STATUS always precedes the final reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from bridge import __version__
from bridge.diagnostics import Diagnostics
from bridge.messages import (
    BadState,
    Cancelled,
    CardReport,
    CardStatusEvent,
    CommandFailed,
    DiagnosticsReport,
    Failure,
    HelloReply,
    Invalid,
    Message,
    ReaderEvent,
    ReaderList,
    Readers,
    SimCardDone,
    UnknownCommand,
)
from bridge.protocol import (
    API_LEVEL,
    CARD_WORKFLOWS,
    REPLIES,
    ArgumentError,
    Authenticate,
    Cancel,
    CheckCardFaceItems,
    Command,
    Envelope,
    GetAuthCertificate,
    GetCardStatus,
    GetDiagnostics,
    GetReaders,
    Hello,
    InvalidMessage,
    ReadCardFace,
    RelayApdu,
    Reserve,
    SelectReader,
    SimCard,
    UnknownCommandError,
    parse_command,
    parse_envelope,
)
from bridge.readers import CancelToken, ReaderBackend, ReaderSnapshot, choose_reader
from bridge.reasons import BridgeFailure, BridgeReason
from bridge.workflows import (
    WorkflowContext,
    auth_certificate,
    authenticate,
    card_status,
    check_card_face_items,
    read_card_face,
    relay_apdu,
    reserve,
)

if TYPE_CHECKING:
    from bridge.simulated import SimulatedBackend

logger = logging.getLogger(__name__)

#: Queues one JSON object for the page (the server's single writer sends them in order).
Send = Callable[[dict[str, Any]], None]


class ClientSession:
    """The state of one page connection (one at a time, enforced by the server)."""

    def __init__(
        self,
        *,
        origin: str,
        backend: ReaderBackend,
        executor: Executor,
        snapshot: Callable[[], ReaderSnapshot],
        refresh: Callable[[], ReaderSnapshot],
        send: Send,
        diagnostics: Diagnostics | None = None,
        settings: Mapping[str, Any] | None = None,
        kiosk: bool = False,
    ) -> None:
        self.origin = origin
        self._kiosk = kiosk
        self._backend = backend
        self._executor = executor
        self._snapshot = snapshot
        self._refresh = refresh
        self._send = send
        self._diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self._settings = dict(settings or {})
        self.hello_done = False
        self.selected: str | None = None
        self.workflow: str | None = None
        self._cancel: CancelToken | None = None
        self._task: asyncio.Task[None] | None = None
        #: The counter read started by a card insertion (see _probe_inserted_card).
        self._probe_cancel = CancelToken()
        self._probe: asyncio.Task[None] | None = None

    # --- state ------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        if not self.hello_done:
            return "NEW"
        return "BUSY" if self.workflow else "READY"

    def _effective_reader(self, names: list[str]) -> tuple[str | None, bool]:
        """The reader card commands use, and whether it was auto-selected (the only one)."""
        if self.selected in names:
            return self.selected, False
        if len(names) == 1:
            return names[0], True  # the only reader: documented auto-selection
        return None, False

    def _reader_list(self) -> ReaderList:
        snapshot = self._snapshot()
        names = [r.name for r in snapshot.readers]
        if self.selected is not None and self.selected not in names:
            self.selected = None
        effective, auto = self._effective_reader(names)
        return ReaderList(
            readers=snapshot.readers,
            selected=effective,
            auto_selected=auto,
            service_reason=snapshot.service_reason,
        )

    def _reply(self, message: Message, envelope: Envelope) -> None:
        self._send(message.to_json(envelope.request_id))

    def _push(self, message: Message) -> None:
        self._send(message.to_json())

    # --- events from the reader monitor -----------------------------------------------------

    def on_reader_events(self, events: list[Message]) -> None:
        """Forward READER / SERVICE events after the handshake; forget a detached selection."""
        for event in events:
            reader_event = event if isinstance(event, ReaderEvent) else None
            if reader_event and reader_event.event == "detached":
                if reader_event.reader == self.selected:
                    self.selected = None
            if self.hello_done:
                self._push(event)
                if reader_event and reader_event.event == "card_inserted":
                    self._probe_inserted_card(reader_event.reader)

    def _probe_inserted_card(self, reader: str) -> None:
        """Follow ``card_inserted`` with a READER ``card_status`` event carrying the counters.

        style.md (after AusweisApp's READER message) and peers.md: show the tries left before
        the resident types. Only for the reader card commands would use (never a guess among
        several), only when idle, and read-only: the same empty-VERIFY reads as
        GET_CARD_STATUS (spec §4.4), so no try is spent. It queues on the one card thread, so
        a command sent meanwhile simply runs after it.
        """
        effective, _ = self._effective_reader([r.name for r in self._snapshot().readers])
        if reader != effective or self.workflow is not None:
            return
        if self._probe is not None and not self._probe.done():
            return
        context = WorkflowContext(
            backend=self._backend,
            reader=reader,
            origin=self.origin,
            cancel=self._probe_cancel,
            emit=lambda status: None,  # no STATUS: this is not a command the page sent
            workflow="READER",
        )
        self._probe = asyncio.get_running_loop().create_task(self._run_probe(context))

    async def _run_probe(self, context: WorkflowContext) -> None:
        loop = asyncio.get_running_loop()
        card: CardReport | None = None
        failure: Failure | None = None
        try:
            card = (await loop.run_in_executor(self._executor, card_status, context)).card
        except BridgeFailure as exc:
            if exc.reason is BridgeReason.CANCELLED:
                return
            failure = Failure.of(exc)
        except Exception:
            logger.exception("counter read after card insertion crashed")
            return
        if self._probe_cancel.cancelled:  # the page went away meanwhile
            return
        logger.info("card status after insertion: %s", failure.reason.value if failure else "ok")
        # The reader's state as it is now, not as it was when the read started.
        info = next((r for r in self._snapshot().readers if r.name == context.reader), None)
        self._push(CardStatusEvent(reader=context.reader, info=info, card=card, failure=failure))

    # --- incoming ---------------------------------------------------------------------------

    async def handle_text(self, raw: str | bytes) -> None:
        try:
            envelope = parse_envelope(raw)
        except InvalidMessage as exc:
            logger.info("invalid message refused: %s", exc)
            self._push(Invalid(error=str(exc)))
            return
        try:
            command = parse_command(
                envelope, simulate=self._backend.kind == "simulated", kiosk=self._kiosk
            )
        except UnknownCommandError:
            # Not the name itself: a confused page could send a password as `cmd`.
            logger.info("unknown command (%d characters)", len(envelope.cmd))
            self._reply(UnknownCommand(cmd=envelope.cmd), envelope)
            return
        except ArgumentError as exc:
            if not self._allowed(envelope.cmd):
                self._bad_state(envelope)
                return
            logger.info("%s: bad argument (%s)", envelope.cmd, exc.reason.value)
            failure = Failure(reason=exc.reason, extra=exc.extra, error=exc.error)
            self._reply(CommandFailed(reply=REPLIES[envelope.cmd], failure=failure), envelope)
            return
        if not self._allowed(envelope.cmd):
            self._bad_state(envelope)
            return
        logger.info("command %s (state %s)", envelope.cmd, self.state)
        await self._dispatch(command, envelope)

    def _allowed(self, cmd: str) -> bool:
        if cmd == "CANCEL":
            return True
        if not self.hello_done:
            return cmd == "HELLO"
        if cmd == "HELLO":
            return False
        if self.workflow is not None:
            return cmd in ("GET_READERS", "GET_DIAGNOSTICS", "SIM_CARD")
        return True

    def _bad_state(self, envelope: Envelope) -> None:
        if not self.hello_done:
            why = "send HELLO first"
        elif envelope.cmd == "HELLO":
            why = "HELLO was already done on this connection"
        else:
            why = f"{self.workflow} is running; wait for its result or send CANCEL"
        logger.info("bad state for %s (state %s)", envelope.cmd, self.state)
        self._reply(BadState(cmd=envelope.cmd, error=why, state=self.state), envelope)

    async def _dispatch(self, command: Command, envelope: Envelope) -> None:
        match command:
            case Hello():
                self.hello_done = True
                self._reply(HelloReply(
                    version=__version__,
                    api=API_LEVEL,
                    backend=self._backend.kind,
                    origin=self.origin,
                    readers=self._reader_list(),
                ), envelope)
            case GetReaders():
                self._reply(Readers(readers=self._reader_list()), envelope)
            case SelectReader(reader=name):
                names = [r.name for r in self._snapshot().readers]
                if name not in names:
                    failure = Failure(
                        BridgeReason.BAD_ARGUMENT, error="no attached reader has that name"
                    )
                    self._reply(CommandFailed(
                        reply=Readers.MSG, failure=failure,
                        context=self._reader_list().to_json(),
                    ), envelope)
                else:
                    self.selected = name
                    self._reply(Readers(readers=self._reader_list(), ok=True), envelope)
            case Cancel():
                running = self.workflow
                if self._cancel is not None:
                    self._cancel.cancel()
                self._reply(Cancelled(workflow=running), envelope)
            case GetDiagnostics():
                self._reply(DiagnosticsReport(
                    environment=self._diagnostics.environment(),
                    api=API_LEVEL,
                    backend=self._backend.kind,
                    settings=self._settings,
                    state=self.state,
                    workflow=self.workflow,
                    readers=self._reader_list(),
                    failures=self._diagnostics.failures(),
                ), envelope)
            case SimCard(present=present):
                backend: SimulatedBackend = self._backend  # type: ignore[assignment]
                backend.set_present(present)
                self._refresh()  # READER event now, not at the next poll
                self._reply(SimCardDone(present=present), envelope)
            case (
                GetCardStatus() | CheckCardFaceItems() | ReadCardFace() | Authenticate()
                | Reserve() | GetAuthCertificate() | RelayApdu()
            ):
                self._start_workflow(command, envelope)

    # --- card workflows ---------------------------------------------------------------------

    def _start_workflow(self, command: Command, envelope: Envelope) -> None:
        assert envelope.cmd in CARD_WORKFLOWS  # noqa: S101 - guarded by the match above
        reply_name = REPLIES[envelope.cmd]
        snapshot = self._snapshot()
        try:
            if snapshot.service_reason is not None:  # pcscd / SCardSvr down: say so, not NO_READER
                raise BridgeFailure(snapshot.service_reason)
            reader = choose_reader(snapshot.readers, self.selected)
        except BridgeFailure as failure:
            self._diagnostics.record(envelope.cmd, failure)
            self._reply(CommandFailed(reply=reply_name, failure=Failure.of(failure)), envelope)
            return
        cancel = CancelToken()
        self._cancel = cancel
        self.workflow = envelope.cmd
        loop = asyncio.get_running_loop()

        def emit(status: Message) -> None:  # called from the card thread
            if not cancel.cancelled:
                loop.call_soon_threadsafe(self._push, status)

        context = WorkflowContext(
            backend=self._backend,
            reader=reader,
            origin=self.origin,
            cancel=cancel,
            emit=emit,
            workflow=envelope.cmd,
        )
        self._task = loop.create_task(self._run(command, context, envelope, reply_name))

    async def _run(
        self, command: Command, context: WorkflowContext, envelope: Envelope, reply_name: str
    ) -> None:
        loop = asyncio.get_running_loop()
        result: Message
        try:
            result = await loop.run_in_executor(self._executor, _run_workflow, command, context)
        except BridgeFailure as failure:
            logger.info("%s failed: %s", envelope.cmd, failure.reason.value)
            self._diagnostics.record(envelope.cmd, failure)
            result = CommandFailed(reply=reply_name, failure=Failure.of(failure))
        except Exception:
            logger.exception("%s crashed", envelope.cmd)
            crash = BridgeFailure(BridgeReason.INTERNAL_ERROR)
            self._diagnostics.record(envelope.cmd, crash)
            result = CommandFailed(reply=reply_name, failure=Failure.of(crash))
        else:
            logger.info("%s done", envelope.cmd)
        finally:
            self.workflow = None
            self._cancel = None
        self._reply(result, envelope)

    def close(self) -> None:
        """The page went away: stop the card work at the next APDU; nothing is retried."""
        self._probe_cancel.cancel()
        if self._cancel is not None:
            logger.info("client gone; cancelling %s", self.workflow)
            self._cancel.cancel()

    async def wait_idle(self) -> None:
        """Wait for the running workflow to end (tests and shutdown)."""
        for task in (self._task, self._probe):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)


def _run_workflow(command: Command, context: WorkflowContext) -> Message:
    match command:
        case GetCardStatus():
            return card_status(context)
        case CheckCardFaceItems():
            return check_card_face_items(context, command)
        case ReadCardFace():
            return read_card_face(context, command)
        case Authenticate():
            return authenticate(context, command)
        case Reserve():
            return reserve(context, command)
        case GetAuthCertificate():
            return auth_certificate(context)
        case RelayApdu():
            return relay_apdu(context, command)
    raise BridgeFailure(BridgeReason.INTERNAL_ERROR, "not a card workflow")

