"""Face work off the server's event loop: worker processes owned by the server process (issue 19).

(What runs inside a worker, and why a frame's answer does not wait for its embedding:
faceverify/worker_process.py.)

One process per core, not threads: the landmark and embedding calls hold the GIL, so threads of one
server process top out near one core. Each attempt lives, from its reference photo to its
decision, in exactly one worker (its `FaceCheck` — tracker, challenge, embeddings — never crosses a
process boundary); the server sends that worker the frames as bytes over a pipe, in memory, and
gets back the challenge's events, which hold no pixels and no embeddings.

Why not `concurrent.futures.ProcessPoolExecutor`: when one of its workers dies, every pending
future of the pool fails (BrokenProcessPool) and the pool is unusable. Here each worker has its
own pipes and its own attempts: a worker that dies fails only the attempts it held (`WorkerLost`,
the page is asked to try again) and a replacement starts in its slot; the other residents' frames
go on being answered.

Each worker has an embedding helper process beside it (`deferred`, the default): the two are
started, and replaced, together.

`InlineFaceWorkers` runs the same work on threads of the calling process (each thread with its
own dlib objects, faceverify/models.py; embeddings on the frame's critical path): for
`MYNA_FACE_WORKERS=0`, tests that patch the engine, and as the benchmark's baseline.

Imports no Django (docs/style.md, package boundaries).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from faceverify.imaging import ImageError
from faceverify.liveness import Decision, Event, Prompt
from faceverify.session import EngineConfig, FaceCheck, ReferencePhotoError, reference_embedding
from faceverify.worker_process import LogSetup, serve, serve_embeddings

logger = logging.getLogger(__name__)

# A worker is asked to slow its attempts' pages down when it would otherwise be busier than this.
_TARGET_LOAD = 0.75
_MAX_PACE_MS = 1000
_START_TIMEOUT = 120.0  # loading the models takes 1–2 s on a quiet machine, far more on a busy one
_RESPAWN_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class WorkerLost(RuntimeError):
    """The worker that held this attempt died (or never came up); the attempt cannot go on."""


class EngineFailure(RuntimeError):
    """The engine raised on this input; the worker and the attempt are still fine."""


class Attempt(Protocol):
    """One face-check attempt, living wherever the backend runs it."""

    prompts: tuple[Prompt, ...]

    async def feed(self, data: bytes, t: float) -> list[Event]:
        """Events for one JPEG frame. ImageError (unusable bytes), EngineFailure, WorkerLost."""
        ...

    def pace_ms(self, base_ms: int) -> int:
        """The frame interval the page should keep so that this attempt's worker keeps up."""
        ...

    async def extend(self, t: float) -> float | None:
        """More time for the current prompt (FaceCheck.extend): seconds left, or None."""
        ...

    def end(self) -> None:
        """Drop the attempt and everything biometric it holds (idempotent)."""
        ...


class FaceBackend(Protocol):
    """Where attempts run: `FaceWorkers` (processes) or `InlineFaceWorkers` (threads)."""

    async def start(
        self,
        photo: bytes,
        config: EngineConfig,
        rng: random.Random | None,
        *,
        request_id: str = "-",
    ) -> Attempt:
        """`request_id` labels the worker's log lines about this attempt (webapp.request_id)."""
        ...

    def close(self) -> None: ...


# -- the server side ------------------------------------------------------------------------------


@dataclass(eq=False)
class _Pending:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


@dataclass(eq=False)
class _Worker:
    """One worker process and the two threads that talk to it."""

    slot: int
    process: Any  # multiprocessing.process.BaseProcess
    helper: Any  # its embedding helper process, or None (embeddings on the critical path)
    requests: multiprocessing.connection.Connection
    replies: multiprocessing.connection.Connection
    outbox: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    pending: dict[int, _Pending] = field(default_factory=dict)
    attempts: set[int] = field(default_factory=set)
    ready: threading.Event = field(default_factory=threading.Event)
    dead: bool = False
    failures: int = 0  # consecutive deaths of this slot before its worker was ready
    service: float = 0.03  # moving average of seconds per request, measured in the worker

    @property
    def pid(self) -> int | None:
        pid = self.process.pid
        return int(pid) if pid is not None else None


class _ProcessAttempt:
    """An attempt held by one worker process."""

    def __init__(self, pool: FaceWorkers, worker: _Worker, aid: int, request_id: str) -> None:
        self.pool = pool
        self.worker = worker
        self.aid = aid
        self.request_id = request_id
        self.prompts: tuple[Prompt, ...] = ()
        self.ended = False

    async def feed(self, data: bytes, t: float) -> list[Event]:
        if self.ended:
            raise WorkerLost("attempt already ended")
        events: list[Event] = await self.pool._call(
            self.worker, "frame", self.aid, (data, t), self.request_id
        )
        if events and isinstance(events[-1], Decision):
            self._forget()  # a Decision: the worker has already dropped the attempt
        return events

    async def extend(self, t: float) -> float | None:
        if self.ended:
            return None
        seconds: float | None = await self.pool._call(
            self.worker, "extend", self.aid, t, self.request_id
        )
        return seconds

    def pace_ms(self, base_ms: int) -> int:
        worker = self.worker
        busy = len(worker.attempts) * worker.service * 1000 / _TARGET_LOAD
        return int(min(_MAX_PACE_MS, max(base_ms, round(busy / 10) * 10)))

    def end(self) -> None:
        if self.ended:
            return
        self._forget()
        if not self.worker.dead:
            message = ("end", None, self.aid, None, self.request_id, time.monotonic())
            self.worker.outbox.put(message)

    def _forget(self) -> None:
        self.ended = True
        self.worker.attempts.discard(self.aid)


class FaceWorkers:
    """`size` worker processes; attempts go to the least busy one and stay there.

    `deferred`: each worker with an embedding helper, so that no frame waits for an embedding
    (worker_process.py); False puts every embedding back on its frame's critical path.
    `logs`: how the processes log like the server (webapp.logs) — with the request ID.
    """

    def __init__(
        self,
        size: int,
        *,
        start_timeout: float = _START_TIMEOUT,
        deferred: bool = True,
        logs: LogSetup | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a process pool needs at least one worker")
        self.size = size
        self.start_timeout = start_timeout
        self.deferred = deferred
        self.logs = logs or LogSetup()
        self._context = multiprocessing.get_context("spawn")  # never fork a threaded server
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False
        self._workers: list[_Worker] = [self._spawn(slot) for slot in range(size)]

    # -- public ---------------------------------------------------------------------------------

    async def start(
        self,
        photo: bytes,
        config: EngineConfig,
        rng: random.Random | None,
        *,
        request_id: str = "-",
    ) -> _ProcessAttempt:
        """Analyse the reference photo in a worker and open an attempt there.

        ReferencePhotoError when the photo has no usable face; WorkerLost when no worker is up
        within `start_timeout` or the chosen one dies meanwhile.
        """
        worker = await self._pick()
        aid = next(self._ids)
        attempt = _ProcessAttempt(self, worker, aid, request_id)
        worker.attempts.add(aid)
        try:
            payload = (photo, config, rng)
            attempt.prompts = await self._call(worker, "start", aid, payload, request_id)
        except BaseException:
            attempt._forget()
            raise
        return attempt

    def workers(self) -> list[tuple[int | None, int]]:
        """(pid, open attempts) per slot, for tests, the benchmark and operators."""
        return [(w.pid if w.ready.is_set() else None, len(w.attempts)) for w in self._workers]

    def worker_of(self, attempt: Attempt) -> int | None:
        """The pid of the process that holds `attempt`."""
        return attempt.worker.pid if isinstance(attempt, _ProcessAttempt) else None

    async def census(self) -> list[list[str]]:
        """What every live worker still holds of any face, one list per open attempt."""
        found: list[list[str]] = []
        for worker in list(self._workers):
            if worker.ready.is_set() and not worker.dead:
                found += await self._call(worker, "census", 0, None, "-")
        return found

    def close(self) -> None:
        self._closed = True
        for worker in self._workers:
            self._retire(worker)

    # -- plumbing -------------------------------------------------------------------------------

    async def _pick(self) -> _Worker:
        deadline = time.monotonic() + self.start_timeout
        while True:
            with self._lock:
                ready = [w for w in self._workers if w.ready.is_set() and not w.dead]
            if ready:
                return min(ready, key=lambda w: (len(w.attempts), len(w.pending), w.slot))
            if time.monotonic() > deadline:
                raise WorkerLost("no face worker is running")
            await asyncio.sleep(0.05)

    async def _call(
        self, worker: _Worker, kind: str, aid: int, payload: Any, request_id: str
    ) -> Any:
        if worker.dead:
            raise WorkerLost("face worker died")
        loop = asyncio.get_running_loop()
        rid = next(self._ids)
        future: asyncio.Future[Any] = loop.create_future()
        worker.pending[rid] = _Pending(loop, future)
        worker.outbox.put((kind, rid, aid, payload, request_id, time.monotonic()))
        if worker.dead and rid in worker.pending:  # died between the check and the put
            worker.pending.pop(rid)
            raise WorkerLost("face worker died")
        return await future

    def _spawn(self, slot: int) -> _Worker:
        requests_in, requests_out = self._context.Pipe(duplex=False)
        replies_in, replies_out = self._context.Pipe(duplex=False)
        helper = helper_end = worker_end = None
        if self.deferred:
            # The helper is the worker's sibling, not its child (a daemonic process may have
            # none); they talk over their own pipe, and each sees the other's death as its end.
            worker_end, helper_end = self._context.Pipe(duplex=True)
            helper = self._context.Process(
                target=serve_embeddings,
                args=(helper_end, self.logs),
                name=f"face-{slot}-embeddings",
                daemon=True,
            )
            helper.start()
        process = self._context.Process(
            target=serve,
            args=(requests_in, replies_out, worker_end, self.logs),
            name=f"face-{slot}",
            daemon=True,
        )
        process.start()
        # Only the children keep these ends: a dead child then shows as end-of-file on our side.
        for end in (requests_in, replies_out, worker_end, helper_end):
            if end is not None:
                end.close()
        worker = _Worker(
            slot=slot, process=process, helper=helper, requests=requests_out, replies=replies_in
        )
        threading.Thread(target=self._send_loop, args=(worker,), daemon=True).start()
        threading.Thread(target=self._receive_loop, args=(worker,), daemon=True).start()
        logger.info("face worker started slot=%d", slot)
        return worker

    def _send_loop(self, worker: _Worker) -> None:
        while True:
            message = worker.outbox.get()
            if message is None:
                break
            try:
                worker.requests.send(message)
            except (OSError, ValueError):
                break  # the receive loop sees the death and fails what was pending

    def _receive_loop(self, worker: _Worker) -> None:
        while True:
            try:
                message = worker.replies.recv()
            except (EOFError, OSError):
                break
            if message[0] == "ready":
                worker.ready.set()
                logger.info("face worker ready slot=%d", worker.slot)
                continue
            rid, status, value, timing = message
            if timing is not None:  # frames only: a reference photo costs more than a frame
                # What the frame cost the core, with the embeddings computed since the last one.
                worker.service = 0.8 * worker.service + 0.2 * float(timing[2])
            pending = worker.pending.pop(rid, None)
            if pending is not None:
                pending.loop.call_soon_threadsafe(_settle, pending.future, status, value)
        self._lost(worker)

    def _lost(self, worker: _Worker) -> None:
        worker.dead = True
        worker.outbox.put(None)
        worker.process.join(timeout=5)
        _stop_helper(worker)
        if self._closed:
            return
        logger.error(
            "face worker died slot=%d exitcode=%s attempts=%d",
            worker.slot,
            worker.process.exitcode,
            len(worker.attempts),
        )
        while worker.pending:
            _, pending = worker.pending.popitem()
            pending.loop.call_soon_threadsafe(_settle, pending.future, "lost", None)
        worker.attempts.clear()
        # Replace it; a worker that dies before it is ready (a broken install) is retried slower.
        failures = 0 if worker.ready.is_set() else worker.failures + 1
        time.sleep(_RESPAWN_DELAYS[min(failures, len(_RESPAWN_DELAYS) - 1)] if failures else 0)
        if self._closed:
            return
        replacement = self._spawn(worker.slot)
        replacement.failures = failures
        with self._lock:
            self._workers[worker.slot] = replacement

    def _retire(self, worker: _Worker) -> None:
        worker.outbox.put(None)
        worker.requests.close()
        worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
        _stop_helper(worker)


def _stop_helper(worker: _Worker) -> None:
    """The helper ends by itself once its worker is gone; a stuck one is killed."""
    if worker.helper is None:
        return
    worker.helper.join(timeout=5)
    if worker.helper.is_alive():
        worker.helper.kill()
        worker.helper.join(timeout=5)


def _settle(future: asyncio.Future[Any], status: str, value: Any) -> None:
    if future.done():
        return
    if status == "ok":
        future.set_result(value)
    elif status == "image_error":
        future.set_exception(ImageError(value))
    elif status == "reference_error":
        future.set_exception(ReferencePhotoError(value))
    elif status == "lost":
        future.set_exception(WorkerLost("face worker died"))
    else:
        future.set_exception(EngineFailure("the face engine failed on this input"))


# -- in the server process ------------------------------------------------------------------------


class _InlineAttempt:
    def __init__(self, backend: InlineFaceWorkers, check: FaceCheck) -> None:
        self.backend = backend
        self.check: FaceCheck | None = check
        self.prompts = check.prompts

    async def feed(self, data: bytes, t: float) -> list[Event]:
        check = self.check
        if check is None:
            raise WorkerLost("attempt already ended")
        try:
            events = await self.backend._run(check.feed_jpeg, data, t)
        except ImageError:
            raise
        except Exception as exc:
            logger.exception("face frame could not be analysed")
            raise EngineFailure("the face engine failed on this input") from exc
        if self.check is None:
            check.discard()  # ended while this frame was analysed: drop what the frame left
        elif check.decision is not None:
            self.end()
        return events

    async def extend(self, t: float) -> float | None:
        # Between frames (the consumer handles one message at a time), so no frame is using it.
        return self.check.extend(t) if self.check is not None else None

    def pace_ms(self, base_ms: int) -> int:
        return base_ms

    def end(self) -> None:
        if self.check is not None:
            self.check.discard()
        self.check = None


class InlineFaceWorkers:
    """Attempts on a thread pool of this process (each thread with its own dlib objects)."""

    def __init__(self, threads: int | None = None) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 1, thread_name_prefix="face"
        )

    async def start(
        self,
        photo: bytes,
        config: EngineConfig,
        rng: random.Random | None,
        *,
        request_id: str = "-",
    ) -> _InlineAttempt:
        check = await self._run(
            lambda: FaceCheck(reference_embedding(photo), config=config, rng=rng)
        )
        return _InlineAttempt(self, check)

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        # In the caller's context, so the thread's log lines carry the connection's request ID.
        call = functools.partial(contextvars.copy_context().run, function, *args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
