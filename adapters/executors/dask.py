"""``DaskExecutor``: steps run as tasks on a dask.distributed cluster.

Three ways to get a cluster: none given starts a temporary ``LocalCluster`` of
worker processes for the run and closes it after; ``address="tcp://host:port"``
connects to a running scheduler; ``client=`` reuses the caller's
``distributed.Client`` (left open). Tasks travel with Dask's own serialization
(cloudpickle). Each attempt tells the driver where it started through a Dask
event topic of its own, so the driver sees the progress, retries included, as
it happens; its outcome (the outputs' descriptions, or the error) comes back the
same way, which spares the round trips of gathering a task's result. A worker
that dies at once may never get its first message out, so a small scheduler
plugin (sent by value, nothing of lineagelog needs to be installed on the
scheduler) reports on the same topic every task of the run
that was processing on a worker when the scheduler lost it: no attempt goes
unrecorded. A task whose worker died is run again by the scheduler; more than
``retries`` such restarts end the task as lost, naming the worker that died.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.executors.port import (
    ExecutorTask,
    Placement,
    StepExecutor,
    TaskFinished,
    TaskNews,
    TaskStarted,
)
from lineagelog.domain.errors import (
    ExecutorError,
    StepNotSerializableError,
    UnreachableStoreError,
)
from lineagelog.domain.redaction import redact_url

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore

__all__ = ["DaskExecutor", "quiet_workers"]

_PROBE_FOLDER = ".lineagelog/probes"
_KEY_PREFIX = "lineagelog-"  # the Dask keys of the runner's tasks
_PUSH_LIMIT = 256 * 1024
"""Outcomes up to this size (pickled) go to the driver on the run's topic, in the worker's
message stream; larger ones wait for the driver to gather the task's result (two more
round trips through the scheduler)."""
_RECORDED_WAIT_S = 30.0
_ANNOUNCE_AFTER_S = 0.05
"""A step still running after this long tells the driver it started (a shorter one's
outcome says it); the driver then appends the attempt while the step runs."""
_SUBMIT_BATCH_S = 0.002
"""How long the client gathers messages to the scheduler before sending them. With
Dask's default, 10 ms, steps that become ready together (a fan-out) wait up to 10 ms
behind the first one's submission; the scheduler and the workers batch for 2 to 5 ms,
and the client does the same while this executor uses it. A chain's next step comes
more than 10 ms after the previous message and is sent at once either way."""


class DaskExecutor(StepExecutor):
    """Run steps on Dask: a temporary local cluster, a scheduler's address, or a client.

    Args:
        address: a running scheduler (``"tcp://10.0.0.5:8786"``); None, with no
            ``client``, starts a ``LocalCluster`` of worker processes for each run.
        client: a ``distributed.Client`` to reuse; it is not closed after the run.
        n_workers: worker processes of the temporary ``LocalCluster`` (Dask's
            default when None: one per core).
        retries: how many times a step whose worker died is started again on
            another worker before the step fails (a step that raises is not retried).

    Raises:
        ExecutorError: ``address`` and ``client`` both given, or a bad number.

    Examples:
        >>> DaskExecutor(address="tcp://127.0.0.1:8786").name
        'dask tcp://127.0.0.1:8786'
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        client: Any = None,
        n_workers: int | None = None,
        retries: int = 1,
    ) -> None:
        if address is not None and client is not None:
            raise ExecutorError(
                f"DaskExecutor(address={address!r}, client=...) names two clusters; "
                "give the scheduler's address or a client, not both"
            )
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ExecutorError(
                f"DaskExecutor(address={address!r}): give a scheduler address such as "
                "'tcp://127.0.0.1:8786'"
            )
        for option, value, least in (("retries", retries, 0), ("n_workers", n_workers, 1)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < least
            ):
                raise ExecutorError(
                    f"DaskExecutor({option}={value!r}): give a whole number of at least {least}"
                )
        if n_workers is not None and (address is not None or client is not None):
            raise ExecutorError(
                f"DaskExecutor(n_workers={n_workers}) sizes the temporary local cluster, but "
                "an existing cluster was given; size that cluster where it is started"
            )
        self.address = address
        self.retries = retries
        self.n_workers = n_workers
        self._given_client = client
        self._client: Any = None
        self._cluster: Any = None
        self._topic = ""
        self._news: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._futures: dict[str, Any] = {}
        self._attempts: dict[str, list[str]] = {}  # key -> workers of the attempts seen
        self._seen: set[str] = set()  # attempt nonces already reported
        self._given_up: set[str] = set()  # keys already reported finished
        # Keys whose outcome came on the topic: added on the client's event loop, read by
        # the done callbacks (no second wake-up) and by close (their tasks are ending).
        self._heard: set[str] = set()
        self._batching: float | None = None  # the client's own interval, restored at close
        # Placement: each worker's threads, the worker each of our tasks runs (or was
        # placed) on, and when each worker was last chosen (ties go round).
        self._threads: dict[str, int] = {}
        self._running_on: dict[str, str] = {}
        self._last_chosen: dict[str, int] = {}
        self._choices = 0

    @property
    def name(self) -> str:  # type: ignore[override]
        """``dask local``, ``dask tcp://host:port`` or ``dask client``, as the log records it."""
        if self._given_client is not None:
            return f"dask {self._given_client.scheduler.address}"
        return f"dask {redact_url(self.address)}" if self.address else "dask local"

    def __repr__(self) -> str:
        return f"DaskExecutor({self.name.removeprefix('dask ')!r}, retries={self.retries})"

    # -- the port ------------------------------------------------------------------------

    def open(self, artifact_store: ArtifactStore) -> None:
        """Connect (or start a local cluster), then check every worker reaches the store.

        Raises:
            ExecutorError: no scheduler at the address, or ``distributed`` is missing.
            UnreachableStoreError: ``memory://``, or a store some worker cannot read.
        """
        if artifact_store.root.startswith("memory://"):
            raise UnreachableStoreError(
                f"the artifact store {artifact_store.root!r} lives in this process's memory, "
                "which Dask's worker processes cannot see; use a folder (with a local cluster) "
                "or an object store such as 's3://bucket/prefix'"
            )
        distributed = _import_distributed()
        # A new session: news of an earlier run's tasks (cancelled at its close) stay out.
        self._topic = f"lineagelog-{uuid.uuid4().hex}"
        self._news = queue.Queue()
        self._heard = set()
        self._attempts.clear()
        self._seen.clear()
        self._given_up.clear()
        self._threads.clear()
        self._running_on.clear()
        if self._given_client is not None:
            self._client = self._given_client
        elif self.address is not None:
            try:
                self._client = distributed.Client(self.address, timeout="10s")
            except OSError as e:
                raise ExecutorError(
                    f"no Dask scheduler answered at {redact_url(self.address)!r} ({e}); start "
                    "one (`dask scheduler`) or fix the address"
                ) from e
        else:
            import dask

            with dask.config.set({"distributed.scheduler.allowed-failures": self.retries}):
                self._cluster = distributed.LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    # The scheduler's HTTP endpoint (metrics) on a free port: the default
                    # 8787 taken by another cluster would print a warning on every run.
                    scheduler_kwargs={"dashboard_address": ":0"},
                )
            self._client = distributed.Client(self._cluster)
        self._shorten_batching()
        self._client.subscribe_topic(self._topic, self._on_event)
        self._client.register_plugin(_loss_watch(self._topic, _KEY_PREFIX), name=self._topic)
        self._check_store(artifact_store)
        self._read_workers()

    def check_sendable(self, what: Any, label: str) -> None:
        """Refuse ``what`` unless Dask can serialize it (cloudpickle), naming ``label``.

        Raises:
            StepNotSerializableError: naming ``label`` and the serializer's complaint.
        """
        import cloudpickle

        try:
            cloudpickle.dumps(what)
        except Exception as e:  # cloudpickle raises many kinds for what it cannot pickle
            raise StepNotSerializableError(
                f"{label} cannot be sent to the Dask workers: {type(e).__name__}: {e}; make "
                "everything the step uses importable or picklable (no open files, locks or "
                "connections in closures or parameters), or run it with executor='local'"
            ) from e

    def place(self) -> Placement | None:
        """The worker with the most threads free of this executor's tasks; None if none is free.

        Ties go to the worker chosen least recently, so a chain of steps goes round the
        workers. Tasks of other clients on a shared cluster are not counted: the scheduler
        queues ours behind them. With no worker known (all left), the scheduler places.
        """
        if not self._threads:
            return Placement(None)
        running = collections.Counter(self._running_on.values())
        free = {
            worker: threads - running[worker]
            for worker, threads in self._threads.items()
            if threads > running[worker]
        }
        if not free:
            return None
        chosen = max(free, key=lambda worker: (free[worker], -self._last_chosen.get(worker, -1)))
        self._choices += 1
        self._last_chosen[chosen] = self._choices
        return Placement(chosen)

    def submit(self, task: ExecutorTask) -> None:
        """Send ``task`` to the scheduler; its news arrive through ``wait``.

        The runner checked with ``check_sendable`` what the task carries; a task that
        still cannot be serialized fails as its step (Dask reports it on the future).
        """
        future = self._client.submit(
            _attempt,
            task.work,
            self._topic,
            task.key,
            key=f"{_KEY_PREFIX}{task.key}",
            pure=False,
            # The place is where the step run says it starts; a worker that dies (or a
            # scheduler that rebalances) may move it, and its attempt then says where.
            workers=None if task.worker is None else [task.worker],
            allow_other_workers=True,
        )
        self._futures[task.key] = future
        if task.worker is not None:
            self._running_on[task.key] = task.worker
        # This session's queue: a callback firing after close reaches no later run. A task
        # whose outcome came on the topic (always before its end) needs no second wake-up.
        news, heard = self._news, self._heard
        future.add_done_callback(
            lambda done, key=task.key: None if key in heard else news.put(("done", (key, done)))
        )

    def _pushed(self, key: str, data: bytes) -> list[TaskNews]:
        """The outcome an attempt sent on the topic (Dask's result of the task is None)."""
        if key in self._given_up:
            return []
        import cloudpickle

        self._given_up.add(key)
        return self._outcome_news(key, cloudpickle.loads(data))

    def _outcome_news(self, key: str, outcome: _Outcome) -> list[TaskNews]:
        news: list[TaskNews] = []
        if outcome.nonce not in self._seen:  # the outcome overtook the start message
            self._seen.add(outcome.nonce)
            self._attempts.setdefault(key, []).append(outcome.worker)
            news.append(TaskStarted(key, outcome.worker, outcome.started_at))
        news.append(
            TaskFinished(
                key,
                worker=outcome.worker,
                result=outcome.result,
                error=outcome.error,
                traceback=outcome.traceback,
            )
        )
        return news

    def wait(self) -> list[TaskNews]:
        """Block until something happened to a submitted task; return everything so far."""
        items = [self._news.get()]
        while True:
            try:
                items.append(self._news.get_nowait())
            except queue.Empty:
                break
        news: list[TaskNews] = []
        for kind, payload in items:
            if kind == "workers":
                self._workers_changed(*payload)
            elif kind == "started":
                news.extend(self._started(*payload))
            elif kind == "lost":
                news.extend(self._lost(*payload))
            elif kind == "outcome":
                news.extend(self._pushed(*payload))
            else:
                news.extend(self._finished(*payload))
        for item in news:  # a finished task frees its place; a retry takes one elsewhere
            if isinstance(item, TaskStarted):
                self._running_on[item.key] = item.worker
            else:
                self._running_on.pop(item.key, None)
        return news

    def close(self) -> None:
        """Cancel what still runs, forget the topic, close what this executor started."""
        if self._client is None:
            return
        try:
            pending = {k: f for k, f in self._futures.items() if not f.done()}
            # A task whose outcome came on the topic has done its work (recorded, unless
            # the run stopped first): let Dask see it end, for a rerun after its worker
            # died in between would rewrite the folder it names.
            deadline = time.monotonic() + _RECORDED_WAIT_S
            for key, future in pending.items():
                if key in self._heard:
                    with contextlib.suppress(Exception):  # only its end matters here
                        future.result(timeout=max(0.0, deadline - time.monotonic()))
            running = [f for k, f in pending.items() if k not in self._heard]
            if running:
                self._client.cancel(running)
            self._client.unsubscribe_topic(self._topic)
            # A scheduler that went away took the plugin with it; the run's own outcome
            # (raised or returned by the runner) must not be replaced by that.
            with contextlib.suppress(OSError, ValueError):
                self._client.unregister_scheduler_plugin(self._topic)
        finally:
            self._restore_batching()
            if self._cluster is not None:
                quiet_workers(self._client)
            if self._given_client is None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
            self._client = self._cluster = None
            self._futures.clear()

    # -- placement ----------------------------------------------------------------------

    def _read_workers(self) -> None:
        """Each worker's threads, as the scheduler knows them now (joins and leaves follow)."""
        workers = self._client.scheduler_info(n_workers=-1).get("workers", {})
        for address, info in workers.items():
            self._threads[str(address)] = _threads_of(info.get("nthreads"))

    def _workers_changed(self, address: str, joined: bool, threads: Any) -> None:
        """A worker joined (with ``threads``, as the scheduler said) or left the cluster."""
        if joined:
            self._threads[address] = _threads_of(threads)
        else:
            self._threads.pop(address, None)

    def _shorten_batching(self) -> None:
        """Send submissions to the scheduler every ``_SUBMIT_BATCH_S`` rather than every 10 ms."""
        stream: Any = getattr(self._client, "scheduler_comm", None)
        interval = getattr(stream, "interval", None)
        if isinstance(interval, float) and interval > _SUBMIT_BATCH_S:
            self._batching = interval
            stream.interval = _SUBMIT_BATCH_S

    def _restore_batching(self) -> None:
        """Give a client this executor was handed back its own batching interval."""
        if self._batching is not None:
            stream = getattr(self._client, "scheduler_comm", None)
            if stream is not None:
                stream.interval = self._batching
            self._batching = None

    # -- news ------------------------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        """Called on the client's event loop with ``(timestamp, message)``."""
        at, message = event
        if "joined" in message or "left" in message:  # from the scheduler plugin
            joined = "joined" in message
            address = str(message["joined"] if joined else message["left"])
            self._news.put(("workers", (address, joined, message.get("nthreads"))))
            return
        if "outcome" in message:  # an attempt's outcome, sent without waiting for a gather
            self._heard.add(message["key"])
            self._news.put(("outcome", (message["key"], message["outcome"])))
            return
        if "lost" in message:  # from the scheduler: the worker died under one of our tasks
            self._news.put(("lost", (message["lost"], message["worker"], at)))
            return
        self._news.put(
            ("started", (message["key"], message["worker"], message["at"], message["nonce"]))
        )

    def _lost(self, dask_key: str, worker: str, at: float) -> list[TaskNews]:
        """An attempt ended by its worker's death: recorded even if it never said it started."""
        key = dask_key.removeprefix(_KEY_PREFIX)
        if key not in self._futures or key in self._given_up:
            return []
        workers = self._attempts.setdefault(key, [])
        news: list[TaskNews] = []
        if worker not in workers[-1:]:  # else its start was heard: already an attempt
            workers.append(worker)
            news.append(TaskStarted(key, worker, at))
        if len(workers) > self.retries:  # that was the last attempt allowed
            self._given_up.add(key)
            future = self._futures.get(key)
            if future is not None and not future.done():
                self._client.cancel([future])
            news.append(TaskFinished(key, worker=None, lost_worker=worker))
        return news

    def _started(self, key: str, worker: str, at: float, nonce: str) -> list[TaskNews]:
        if nonce in self._seen or key in self._given_up:
            return []
        self._seen.add(nonce)
        workers = self._attempts.setdefault(key, [])
        workers.append(worker)
        if len(workers) > self.retries + 1:
            # The scheduler restarted it once more than asked: stop it and say who died.
            self._given_up.add(key)
            future = self._futures.get(key)
            if future is not None:
                self._client.cancel([future])
            return [TaskFinished(key, worker=None, lost_worker=workers[-2])]
        return [TaskStarted(key, worker, at)]

    def _finished(self, key: str, future: Any) -> list[TaskNews]:
        if key in self._given_up:
            return []  # its outcome came on the topic, or it was given up
        self._given_up.add(key)
        if future.status == "finished":
            outcome: _Outcome | None = future.result()
            if outcome is None:  # sent on the topic, which always comes first: it was lost
                missing = ExecutorError(
                    f"the outcome of the Dask task of {key} was sent to the driver and lost "
                    "on the way; run the pipeline again"
                )
                return [TaskFinished(key, worker=None, error=missing)]
            return self._outcome_news(key, outcome)
        from distributed import KilledWorker

        workers = self._attempts.get(key, [])
        error = future.exception() if future.status == "error" else None
        if isinstance(error, KilledWorker):
            lost = _last_worker(error)
            news = []
            if lost is not None and lost not in workers[-1:]:  # no news of it heard yet
                workers.append(lost)
                news.append(TaskStarted(key, lost, time.time()))
            return [*news, TaskFinished(key, worker=None, lost_worker=lost or "a lost worker")]
        if error is None:
            error = ExecutorError(f"the Dask task of {key} was {future.status}")
        return [
            TaskFinished(
                key,
                worker=workers[-1] if workers else None,
                error=error,
                traceback="".join(traceback.format_exception(error)),
            )
        ]

    # -- the store -------------------------------------------------------------------------

    def _check_store(self, store: ArtifactStore) -> None:
        token = uuid.uuid4().hex
        probe = store.join(store.root, f"{_PROBE_FOLDER}/{token}")
        store.write_text(probe, token)
        try:
            seen = self._client.run(_reads, store, probe, token)
        finally:
            store.remove(probe)
        if not seen:
            raise ExecutorError(
                f"the Dask cluster at {self.name.removeprefix('dask ')} has no workers; start "
                "some (`dask worker ADDRESS`) and run again"
            )
        blind = sorted(worker for worker, ok in seen.items() if not ok)
        if blind:
            raise UnreachableStoreError(
                f"the Dask workers {blind} cannot read the artifact store {store.root!r} "
                "(a file written there by this process is not there for them); use a store "
                "every worker reaches, such as 's3://bucket/prefix', or a shared folder"
            )


@dataclass(frozen=True)
class _Outcome:
    """What an attempt sends back: where and when it ran, and its result or error."""

    worker: str
    nonce: str
    started_at: float
    result: Any = None
    error: BaseException | None = None
    traceback: str | None = None


def _attempt(work: Any, topic: str, key: str) -> _Outcome | None:
    """Run on a worker: announce the attempt, run ``work``, send back what happened.

    The outcome goes on ``topic`` when small (None is then the task's result), else
    it is the task's result for the driver to gather.
    """
    from distributed import get_worker

    worker = get_worker()
    nonce, started_at = uuid.uuid4().hex, time.time()
    announcement = _Announcement(
        worker, topic, {"key": key, "worker": worker.address, "at": started_at, "nonce": nonce}
    )
    try:
        result = work()
    except Exception as error:  # a step may raise anything: it goes back to the driver
        outcome = _Outcome(
            worker.address,
            nonce,
            started_at,
            error=_sendable(error),
            traceback="".join(traceback.format_exception(error)),
        )
    else:
        outcome = _Outcome(worker.address, nonce, started_at, result=result)
    finally:
        announcement.settle()
    return _delivered(worker, topic, key, outcome)


class _Announcement:
    """Tell the driver an attempt started, once it has run ``_ANNOUNCE_AFTER_S``.

    A step that ends sooner is announced by its outcome alone (which carries where
    and when it started): one message instead of two, so the outcome does not wait
    for the worker's next batch to the scheduler, and the driver appends the attempt
    with the step's end. A worker that dies before announcing is reported by the
    scheduler plugin. The lock keeps the announcement, if sent, before the outcome.
    The worker process's one ``_Announcer`` thread sends it when it comes due.
    """

    def __init__(self, worker: Any, topic: str, message: dict[str, Any]) -> None:
        self._worker, self._topic, self._message = worker, topic, message
        self._lock = threading.Lock()
        self._settled = False
        _ANNOUNCER.add(self)

    def announce(self) -> None:
        """Send the announcement, unless the attempt already ended."""
        with self._lock:
            if not self._settled:
                self._worker.log_event(self._topic, self._message)
                self._settled = True

    def settle(self) -> None:
        """The attempt ended: announce nothing more (its outcome goes next)."""
        with self._lock:
            self._settled = True


class _Announcer:
    """One thread per worker process sending the announcements that come due.

    A thread (a ``threading.Timer``) per attempt cost more to start than a short
    step takes to run. Every announcement is due ``_ANNOUNCE_AFTER_S`` after it was
    added, so they come due in the order they were added: the thread sleeps until
    the oldest is due and is woken only when it had nothing to wait for. One that
    settled meanwhile is let go of when it comes due.
    """

    def __init__(self) -> None:
        self._due: collections.deque[tuple[float, _Announcement]] = collections.deque()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, announcement: _Announcement) -> None:
        """Send ``announcement`` in ``_ANNOUNCE_AFTER_S`` (unless it settles first)."""
        with self._changed:
            idle = not self._due
            self._due.append((time.monotonic() + _ANNOUNCE_AFTER_S, announcement))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="lineagelog-announcer", daemon=True
                )
                self._thread.start()
            elif idle:
                self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._due:
                    self._changed.wait()
                due, announcement = self._due[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                self._due.popleft()
            announcement.announce()  # outside: log_event must not hold up add()


_ANNOUNCER = _Announcer()


def _delivered(worker: Any, topic: str, key: str, outcome: _Outcome) -> _Outcome | None:
    """None once ``outcome`` is on its way on ``topic``; ``outcome`` if too large for that."""
    import cloudpickle

    try:
        data = cloudpickle.dumps(outcome)
    except Exception:  # Dask's own serialization of the result reports what is wrong
        return outcome
    if len(data) > _PUSH_LIMIT:
        return outcome
    # Sent before the task's end on the same stream: the driver hears it first.
    worker.log_event(topic, {"key": key, "outcome": data})
    return None


def _loss_watch(topic: str, prefix: str) -> Any:
    """A scheduler plugin reporting on ``topic`` each of our tasks a lost worker was running.

    The class is made here so that cloudpickle sends it by value: the scheduler
    needs ``distributed``, not lineagelog. It follows which worker each task of
    ``prefix`` is processing on; a task leaving ``processing`` because its worker
    is gone from the scheduler is reported as ``{"lost": key, "worker": address}``.
    It also clears the topic's messages from the scheduler's memory once sent.
    """
    from distributed.diagnostics.plugin import SchedulerPlugin

    class LineagelogLossWatch(SchedulerPlugin):
        def __init__(self) -> None:
            self.scheduler: Any = None
            self.processing_on: dict[str, str] = {}

        async def start(self, scheduler: Any) -> None:
            self.scheduler = scheduler

        def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
            if not isinstance(key, str) or not key.startswith(prefix) or self.scheduler is None:
                return
            if finish == "processing":
                task = self.scheduler.tasks.get(key)
                worker = getattr(getattr(task, "processing_on", None), "address", None)
                if worker is not None:
                    self.processing_on[key] = worker
            elif start == "processing":
                worker = self.processing_on.pop(key, None)
                if worker is not None and worker not in self.scheduler.workers:
                    self.scheduler.log_event(topic, {"lost": key, "worker": worker})

        def add_worker(self, scheduler: Any, worker: str) -> None:
            state = scheduler.workers.get(worker)
            threads = getattr(state, "nthreads", 1)
            scheduler.log_event(topic, {"joined": worker, "nthreads": threads})

        def remove_worker(self, scheduler: Any, worker: str, **kwargs: Any) -> None:
            scheduler.log_event(topic, {"left": worker})

        def log_event(self, name: str, msg: Any) -> None:
            # Called once the event went to the driver: the scheduler need not keep the
            # run's messages (outcomes included) for as long as it lives.
            if name == topic and self.scheduler is not None:
                topics = getattr(getattr(self.scheduler, "_broker", None), "_topics", None)
                if isinstance(topics, dict) and name in topics:
                    topics[name].events.clear()

    return LineagelogLossWatch()


def _sendable(error: BaseException) -> BaseException:
    """``error`` if it pickles, else a ``RuntimeError`` that says what it was."""
    import cloudpickle

    try:
        cloudpickle.loads(cloudpickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__module__}.{type(error).__qualname__}: {error}")
    return error


def quiet_workers(client: Any) -> None:
    """Stop the workers' heartbeats before their cluster is closed.

    A heartbeat on its way when the scheduler drops the worker fails with a
    ``CommClosedError`` the worker prints as an error (dask/distributed#7105),
    though nothing went wrong: the cluster is being closed on purpose. With the
    heartbeats stopped (and any one in flight answered, ``run`` waits for every
    worker), the shutdown has nothing to print.
    """
    with contextlib.suppress(Exception):  # a worker already gone has no heartbeat to stop
        client.run(_stop_heartbeat)


def _stop_heartbeat(dask_worker: Any) -> None:
    dask_worker.periodic_callbacks["heartbeat"].stop()


def _reads(store: ArtifactStore, probe: str, token: str) -> bool:
    """Run on every worker: whether the probe the driver wrote is there, as written."""
    try:
        return store.read_bytes(probe).decode() == token
    except Exception:  # any failure to read means this worker cannot use the store
        return False


def _threads_of(threads: Any) -> int:
    """A worker's threads as the scheduler gives them (at least 1; 1 if not a number)."""
    return threads if isinstance(threads, int) and threads > 0 else 1


def _last_worker(error: BaseException | None) -> str | None:
    last = getattr(error, "last_worker", None)
    address = getattr(last, "address", last)
    return str(address) if address else None


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as e:
        raise ExecutorError(
            "running steps on Dask needs the 'distributed' package: pip install 'lineagelog[dask]'"
        ) from e
    return distributed
