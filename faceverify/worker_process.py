"""What runs inside a face worker process and its embedding helper (issue 19; faceverify/workers.py
is the server's side).

A frame's answer does not wait for its embedding. The worker measures the frame (decode, tracked
detection, landmarks, pose, quality, stillness, surroundings: ~10 ms), steps the challenge and
answers at once; when the frame wants an embedding (~90 ms, ten times the rest), the worker hands
the JPEG bytes and the face box to its **embedding helper**, a second process at a lower CPU
priority, and folds the result into the attempt when it comes back (`FaceCheck.fold`). The kernel
runs a frame as soon as it arrives, ahead of any embedding in progress, so embeddings use what the
frames leave of the core. Nothing is weakened: every embedding asked for is folded in, oldest
first, before any verdict — an attempt that ends while some are out waits for them (its frames
meanwhile change nothing and are answered with the progress so far; the verdict is the answer to
the first frame after the last embedding is in), and an embedding of another face still ends it
as `face_changed`. The helper also analyses the reference photo, so a new attempt does not stall
the other residents' frames on this worker either.

The helper holds nothing between jobs (it returns the 128 numbers; the distance to the reference
is taken here). If it dies, the worker exits and the server replaces both (workers.py): the
worker's attempts are interrupted, as with any worker crash.

Log lines carry the request ID of the WebSocket connection the work is for: the server sends it
with every request and `LogSetup.label` sets it before the work is done.

Imports no Django: the server hands in `LogSetup` (webapp.logs) as picklable functions.
"""

from __future__ import annotations

import logging
import multiprocessing.connection
import os
import queue
import random
import signal
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from faceverify.analyzer import embed
from faceverify.imaging import JPEG, ImageError, decode
from faceverify.liveness import Event
from faceverify.models import get_models
from faceverify.session import EngineConfig, FaceCheck, ReferencePhotoError, reference_embedding

logger = logging.getLogger(__name__)

Connection = multiprocessing.connection.Connection

# Niceness of the embedding helper: a frame (nice 0) preempts it within the kernel's wake-up
# granularity, yet it is not starved by a busy machine the way nice 19 would be.
HELPER_NICE = 10
HELPER_LOST_EXIT = 70  # the worker's exit code when its helper died


@dataclass(frozen=True)
class LogSetup:
    """How the processes log like their server: `configure` once at start, `label` with the
    request ID before each piece of work. Top-level functions, so that they pickle by name."""

    configure: Callable[[], None] | None = None
    label: Callable[[str], None] | None = None

    def start(self) -> None:
        if self.configure is not None:
            self.configure()

    def set(self, request_id: str) -> None:
        if self.label is not None:
            self.label(request_id)


# -- the embedding helper -------------------------------------------------------------------------


def serve_embeddings(jobs: Connection, logs: LogSetup) -> None:
    """The helper's loop: one job at a time, until its worker's end of the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(HELPER_NICE)
    logs.start()
    get_models()
    while True:
        try:
            kind, aid, request_id, payload = jobs.recv()
        except (EOFError, OSError):
            break
        logs.set(request_id)
        # CPU time, not wall time: at a low priority the wall time of a job counts every frame
        # that preempted it, and the server's pace must see what the embeddings cost the core.
        started = time.process_time()
        value: Any
        try:
            if kind == "reference":
                status, value = "ok", reference_embedding(payload)
            else:
                data, box = payload
                status, value = "ok", embed(decode(data, formats=frozenset({JPEG})), box)
        except ReferencePhotoError as exc:
            status, value = "reference_error", exc.reason
        except ImageError as exc:
            status, value = "image_error", exc.reason
        except Exception:
            logger.exception("face embedding helper could not handle a %s job", kind)
            status, value = "engine_error", None
        del payload
        try:
            jobs.send((aid, status, value, time.process_time() - started))
        except OSError:  # the worker is gone (stopped or crashed): so is the reason to go on
            break


# -- the worker -----------------------------------------------------------------------------------


@dataclass
class _Timings:
    """Per attempt, logged when it ends: where a frame's time went (bench/face_load.py reads it)."""

    waits: list[float] = field(default_factory=list)  # request queued → taken up, seconds
    computes: list[float] = field(default_factory=list)  # taken up → answered
    embeddings: int = 0
    embed_seconds: float = 0.0
    awaiting_since: float | None = None  # the attempt ended, its verdict waiting for embeddings
    verdict_wait: float = 0.0  # from then until the last embedding was in

    def log(self) -> None:
        if not self.waits:
            return
        logger.info(
            "face attempt timings frames=%d wait_ms_mean=%.1f wait_ms_p95=%.1f "
            "compute_ms_mean=%.1f compute_ms_p95=%.1f embeddings=%d embed_cpu_ms_mean=%.1f "
            "verdict_wait_ms=%.1f",
            len(self.waits),
            1000 * statistics.fmean(self.waits),
            1000 * _p95(self.waits),
            1000 * statistics.fmean(self.computes),
            1000 * _p95(self.computes),
            self.embeddings,
            1000 * self.embed_seconds / max(1, self.embeddings),
            1000 * self.verdict_wait,
        )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def serve(
    requests: Connection, replies: Connection, helper: Connection | None, logs: LogSetup
) -> None:
    """A worker's main loop, until the server's end of the pipe closes (or the helper dies).

    `helper` None: every embedding on its frame's critical path, as before issue 19's second part
    (`MYNA_FACE_EMBED_AFTER_ANSWER=0`, the benchmark's baseline).
    """
    # Ctrl-C in a terminal reaches the whole process group; the server decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.start()
    get_models()
    replies.send(("ready", os.getpid()))
    worker = _WorkerLoop(replies, helper, logs)
    try:
        helper_alive = worker.run(requests)
    finally:
        worker.close()
    if not helper_alive:
        raise SystemExit(HELPER_LOST_EXIT)


class _WorkerLoop:
    def __init__(self, replies: Connection, helper: Connection | None, logs: LogSetup) -> None:
        self.replies = replies
        self.helper = helper
        self.logs = logs
        self.checks: dict[int, FaceCheck] = {}
        self.request_ids: dict[int, str] = {}
        self.timings: dict[int, _Timings] = {}
        self.starting: dict[int, tuple[int, EngineConfig, random.Random | None]] = {}
        # What an attempt's next frame gets: its verdict, which came with an embedding.
        self.late: dict[int, tuple[str, Any]] = {}
        # Helper CPU seconds for frames' embeddings not yet charged to a frame (the server's pace;
        # a reference photo, once per attempt, is not a frame's cost).
        self.embed_debt = 0.0
        # Jobs go to the helper from a thread: a frame's JPEG is tens of KB, and a send into a
        # full pipe must not stall the next frame while the helper is busy with an embedding.
        self.jobs: queue.SimpleQueue[tuple[str, int, str, Any] | None] = queue.SimpleQueue()
        if helper is not None:
            threading.Thread(target=self._send_jobs, args=(helper,), daemon=True).start()

    def _send_jobs(self, helper: Connection) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                helper.send(job)
            except OSError:
                return  # the helper died; the main loop sees it and stops

    def run(self, requests: Connection) -> bool:
        """Serve until the server closes the pipe (True) or the helper dies (False)."""
        # The helper's results first: a verdict they complete answers the frame waiting beside them.
        sources = [requests] if self.helper is None else [self.helper, requests]
        while True:
            ready = multiprocessing.connection.wait(sources)
            for source in [c for c in sources if c in ready]:
                try:
                    message = cast(Connection, source).recv()
                except (EOFError, OSError):
                    if source is requests:
                        return True
                    logger.error("face embedding helper died; this worker stops")
                    return False
                if source is requests:
                    self._request(*message)
                else:
                    self._embedded(*message)

    def close(self) -> None:
        self.jobs.put(None)
        for aid in list(self.checks):
            self._drop(aid)

    # -- requests from the server ---------------------------------------------------------------

    def _request(
        self, kind: str, rid: int | None, aid: int, payload: Any, request_id: str, sent: float
    ) -> None:
        self.logs.set(request_id)
        wait = max(0.0, time.monotonic() - sent)
        started = time.perf_counter()
        try:
            if kind == "start":
                self._start(rid, aid, payload, request_id)
            elif kind == "frame":
                self._frame(rid, aid, payload, wait, started)
            elif kind == "extend":  # more time for the current prompt (Challenge.extend)
                check = self.checks.get(aid)
                self._reply(rid, "ok", check.extend(payload) if check is not None else None)
            elif kind == "end":
                self._end(aid)
            elif kind == "census":  # what is still held of any face (tests: nothing after results)
                self._reply(rid, "ok", [c.leftovers() for c in self.checks.values()])
            else:
                self._reply(rid, "engine_error", None)
        except ImageError as exc:
            self._reply(rid, "image_error", exc.reason)
        except ReferencePhotoError as exc:
            self._reply(rid, "reference_error", exc.reason)
        except Exception:
            logger.exception("face worker could not handle a %s request", kind)
            self._reply(rid, "engine_error", None)

    def _start(self, rid: int | None, aid: int, payload: Any, request_id: str) -> None:
        photo, config, rng = payload
        self.request_ids[aid] = request_id
        if self.helper is None:
            self._open(rid, aid, FaceCheck(reference_embedding(photo), config=config, rng=rng))
            return
        self.starting[aid] = (rid or 0, config, rng)
        self.jobs.put(("reference", aid, request_id, photo))

    def _open(self, rid: int | None, aid: int, check: FaceCheck) -> None:
        self.checks[aid] = check
        self.timings[aid] = _Timings()
        self._reply(rid, "ok", check.prompts)

    def _frame(self, rid: int | None, aid: int, payload: Any, wait: float, started: float) -> None:
        if aid in self.late:
            status, value = self.late.pop(aid)
            self._reply(rid, status, value)
            return
        check = self.checks.get(aid)
        if check is None:
            self._reply(rid, "engine_error", None)
            return
        data, t = payload
        if self.helper is None:
            events = check.feed_jpeg(data, t)
        else:
            events, box = check.feed_jpeg_deferred(data, t)
            if box is not None:
                self.jobs.put(("embed", aid, self.request_ids.get(aid, "-"), (data, box)))
        del data
        compute = time.perf_counter() - started
        timings = self.timings[aid]
        timings.waits.append(wait)
        timings.computes.append(compute)
        if check.awaiting and timings.awaiting_since is None:
            timings.awaiting_since = time.monotonic()
        self._reply(rid, "ok", events, (wait, compute, compute + self._take_debt()))
        if check.decision is not None:
            self._drop(aid)

    def _end(self, aid: int) -> None:
        self.starting.pop(aid, None)
        self.late.pop(aid, None)
        self._drop(aid)

    # -- results from the helper ----------------------------------------------------------------

    def _embedded(self, aid: int, status: str, value: Any, seconds: float) -> None:
        self.logs.set(self.request_ids.get(aid, "-"))
        if aid in self.starting:
            rid, config, rng = self.starting.pop(aid)
            if status == "ok":
                self._open(rid, aid, FaceCheck(value, config=config, rng=rng))
            else:
                self.request_ids.pop(aid, None)
                self._reply(rid, status, value)
            return
        self.embed_debt += seconds
        check = self.checks.get(aid)
        if check is None:
            return  # the attempt ended while its embedding was computed
        self.timings[aid].embed_seconds += seconds
        if status != "ok":
            # Without this embedding the attempt cannot be decided as strictly as it must be: it
            # is lost, like an attempt on a worker that died (the page retries, the try given back).
            logger.error("face embedding failed status=%s; the attempt is interrupted", status)
            self._conclude(aid, "lost", None)
            return
        events = check.fold(value)
        if events:
            self._conclude(aid, "ok", events)

    def _conclude(self, aid: int, status: str, events: list[Event] | None) -> None:
        """The attempt ended with an embedding: the verdict is the answer to its next frame."""
        timings = self.timings[aid]
        if timings.awaiting_since is not None:
            timings.verdict_wait = time.monotonic() - timings.awaiting_since
        self.late[aid] = (status, events)
        self._drop(aid)

    # -- plumbing -------------------------------------------------------------------------------

    def _drop(self, aid: int) -> None:
        check = self.checks.pop(aid, None)
        if check is not None:
            check.discard()
        timings = self.timings.pop(aid, None)
        if timings is not None:
            if check is not None:
                timings.embeddings = check.embeddings  # asked for, inline or by the helper
            timings.log()
        self.request_ids.pop(aid, None)

    def _take_debt(self) -> float:
        debt, self.embed_debt = self.embed_debt, 0.0
        return debt

    def _reply(
        self,
        rid: int | None,
        status: str,
        value: Any,
        timing: tuple[float, float, float] | None = None,
    ) -> None:
        if rid is not None:
            self.replies.send((rid, status, value, timing))
