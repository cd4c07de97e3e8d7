"""The Ray backend of the query engine: a pool of actors, each holding one copy of the model.

The driver (the process running the solver) keeps deduplication, the cache and the retry
logic; actors only evaluate batches of masks. Each actor builds its own model by calling a
picklable *factory* (so LLM weights are loaded on the actor's node and GPU, never shipped from
the driver). Batches are handed out dynamically (at most ``max_in_flight`` per actor, so an
actor always has its next batch waiting), results are written to the cache as they arrive,
and a batch whose actor dies is sent to another actor while the dead one is replaced.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["ActorLostError", "RayActorPool", "connect_ray", "import_ray"]

_INSTALL_HINT = (
    "backend='ray' needs Ray, which is not installed; install it with "
    "pip install 'interplay[ray]' (or pip install 'ray[default]')"
)


def import_ray() -> Any:
    """Import :mod:`ray`, or fail with the command that installs it."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return ray


#: the address this process joined with :func:`connect_ray` (``None``: a local Ray)
_joined_address: list[str | None] = []


def connect_ray(address: str | None = None) -> Any:
    """Initialise Ray in this process, once: join the cluster at ``address`` (``"auto"``,
    ``"ray://host:10001"``) or, with ``None``, start a local one. Return the :mod:`ray` module.

    Raises
    ------
    ImportError
        Ray is not installed (the message says how to install it).
    ConnectionError
        No cluster answers at ``address`` (one line saying what to do).
    """
    ray = import_ray()
    if address is not None:
        _probe(address)  # a wrong address is an error even when Ray already runs here
    if ray.is_initialized():
        return ray
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True}
    if address is not None:
        kwargs = {"address": address}
    try:
        ray.init(**kwargs)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConnectionError(
            f"cannot join the Ray cluster at {address!r} ({first}); start one with "
            "`ray start --head`, or leave out the address to start a local one"
        ) from None
    _joined_address[:] = [address]
    return ray


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail fast when nothing listens at a ``host:port`` or ``ray://host:port`` address
    (``ray.init`` itself keeps retrying such an address for minutes)."""
    import socket
    from urllib.parse import urlsplit

    if address == "auto":
        return
    parts = urlsplit(address if "://" in address else f"gcs://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ConnectionError(
            f"the Ray address {address!r} is not 'auto', 'host:port' or 'ray://host:port'"
        )
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ConnectionError(
            f"no Ray cluster answers at {address!r} ({exc.strerror or exc}); start one with "
            "`ray start --head`, or leave out the address to start a local one"
        ) from None


class ActorLostError(RuntimeError):
    """The actor evaluating a batch died (killed, crashed, node lost) before answering."""


class _ModelActor:
    """Body of the Ray actor: builds the model once, then evaluates batches."""

    def __init__(self, factory: Callable[[], Callable[[np.ndarray], Any]]) -> None:
        self.model = factory()
        if not callable(self.model):
            raise TypeError("model_factory() must return a callable model")

    def info(self) -> dict[str, Any]:
        import ray

        own = getattr(self.model, "fingerprint", None)
        return {
            "pid": os.getpid(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "gpu_ids": [str(g) for g in ray.get_gpu_ids()],
            "fingerprint": str(own()) if callable(own) else None,
            "has_cost": callable(getattr(self.model, "cost", None)),
        }

    def evaluate(self, masks: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(masks))

    def cost(self, masks: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.cost(masks), dtype=np.float64)


class RayActorPool:
    """Actors that evaluate batches of masks, used by :class:`~interplay.runtime.QueryEngine`.

    Parameters
    ----------
    factory : callable
        Picklable zero-argument callable returning the model (``model(masks) -> values``).
        Ray pickles it with cloudpickle: a function or class defined in an importable module is
        pickled by reference, so that module must be importable on the workers.
    address : str, optional
        Cluster to join: ``"auto"`` (the cluster started by ``ray start`` on this machine),
        ``"ray://host:10001"`` (Ray client), or ``None`` to use the Ray already initialised in
        this process or start a local one.
    num_actors : int, optional
        Number of actors. Default: as many as the cluster has GPUs divided by
        ``num_gpus_per_actor`` when GPUs are used, else one per CPU of the cluster.
    num_gpus_per_actor : float, optional
        GPUs reserved by each actor (fractions put several copies on one GPU). Default: 1 when
        the cluster has GPUs, else 0.
    num_cpus_per_actor : float
        CPUs reserved by each actor.
    max_in_flight : int
        Batches queued on one actor at a time (2 hides the scheduling round-trip).
    max_actor_replacements : int, optional
        Dead actors replaced before giving up; default ``2 * num_actors + 2``.
    start_timeout : float, optional
        Seconds to wait for all actors to build their model (``None``: no limit).

    Attributes
    ----------
    infos : list of dict
        Per actor: process id, node id, GPU ids, fingerprint, whether the model has ``cost``.
    n_replaced : int
        Actors replaced after dying.
    batches_done : list of int
        Batches answered by each actor slot.
    """

    def __init__(
        self,
        factory: Callable[[], Callable[[np.ndarray], Any]],
        *,
        address: str | None = None,
        num_actors: int | None = None,
        num_gpus_per_actor: float | None = None,
        num_cpus_per_actor: float = 1.0,
        max_in_flight: int = 2,
        max_actor_replacements: int | None = None,
        start_timeout: float | None = 1800.0,
    ) -> None:
        if not callable(factory):
            raise TypeError(f"model factory must be callable, got {type(factory).__name__}")
        if num_actors is not None and int(num_actors) < 1:
            raise ValueError(f"num_actors must be at least 1, got {num_actors}")
        if num_gpus_per_actor is not None and float(num_gpus_per_actor) < 0:
            raise ValueError(f"num_gpus_per_actor must be non-negative, got {num_gpus_per_actor}")
        if int(max_in_flight) < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        self.factory = factory
        self.address = address
        self.num_actors = num_actors
        self.num_gpus_per_actor = num_gpus_per_actor
        self.num_cpus_per_actor = float(num_cpus_per_actor)
        self.max_in_flight = int(max_in_flight)
        self.max_actor_replacements = max_actor_replacements
        self.start_timeout = start_timeout
        self.infos: list[dict[str, Any]] = []
        self.n_replaced = 0
        self.batches_done: list[int] = []
        self._ray: Any = None
        self._actor_cls: Any = None
        self._actors: list[Any] = []
        self._load: list[int] = []
        self._in_flight: dict[Any, tuple[Any, int, Any]] = {}  # ref -> (job, slot, actor)

    # ----------------------------------------------------------------- set-up
    def _resources(self) -> tuple[int, float]:
        ray = self._ray
        resources = ray.cluster_resources()
        gpus = float(resources.get("GPU", 0.0))
        cpus = float(resources.get("CPU", 0.0))
        per_gpu = self.num_gpus_per_actor
        if per_gpu is None:
            per_gpu = 1.0 if gpus >= 1 else 0.0
        per_gpu = float(per_gpu)
        if self.num_actors is not None:
            count = int(self.num_actors)
        elif per_gpu > 0:
            count = max(1, int(gpus / per_gpu + 1e-9))
        else:
            count = max(1, int(cpus // max(self.num_cpus_per_actor, 1e-9)))
        if per_gpu > 0 and count * per_gpu > gpus + 1e-9:
            warnings.warn(
                f"{count} actors x {per_gpu} GPU need {count * per_gpu:g} GPUs but the cluster "
                f"has {gpus:g}; actors beyond that wait for GPUs to appear",
                RuntimeWarning,
                stacklevel=3,
            )
        if count * self.num_cpus_per_actor > cpus + 1e-9:
            warnings.warn(
                f"{count} actors x {self.num_cpus_per_actor:g} CPU exceed the cluster's "
                f"{cpus:g} CPUs; actors beyond that wait for CPUs to appear",
                RuntimeWarning,
                stacklevel=3,
            )
        return count, per_gpu

    def start(self) -> None:
        """Connect to Ray, create the actors and wait until each has built its model."""
        if self._actors:
            return
        ray = import_ray()
        joined_elsewhere = ray.is_initialized() and _joined_address != [self.address]
        self._ray = connect_ray(self.address)
        if joined_elsewhere and self.address is not None:
            warnings.warn(
                f"Ray is already initialised in this process; ray_address={self.address!r} is "
                "ignored (call ray.shutdown() first to connect elsewhere)",
                RuntimeWarning,
                stacklevel=3,
            )
        count, per_gpu = self._resources()
        self._actor_cls = ray.remote(
            num_cpus=self.num_cpus_per_actor, num_gpus=per_gpu, max_restarts=0
        )(_ModelActor)
        if self.max_actor_replacements is None:
            self.max_actor_replacements = 2 * count + 2
        self._actors = [self._actor_cls.remote(self.factory) for _ in range(count)]
        self._load = [0] * count
        self.batches_done = [0] * count
        try:
            self.infos = ray.get(
                [a.info.remote() for a in self._actors], timeout=self.start_timeout
            )
        except Exception:
            self.close()
            raise

    @property
    def fingerprint(self) -> str | None:
        """The model's ``fingerprint()`` (as reported by the first actor), if it has one."""
        return self.infos[0]["fingerprint"] if self.infos else None

    @property
    def has_cost(self) -> bool:
        return bool(self.infos and self.infos[0]["has_cost"])

    @property
    def actors(self) -> list[Any]:
        """The live actor handles (one model copy each)."""
        return list(self._actors)

    def cost(self, masks: np.ndarray) -> np.ndarray:
        """The model's ``cost(masks)``, computed on the least busy actor."""
        index = int(np.argmin(self._load))
        return self._ray.get(self._actors[index].cost.remote(masks))

    # ------------------------------------------------------- executor protocol
    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def can_submit(self) -> bool:
        return min(self._load) < self.max_in_flight

    def submit(self, job: Any, masks: np.ndarray) -> None:
        index = int(np.argmin(self._load))
        actor = self._actors[index]
        ref = actor.evaluate.remote(masks)
        self._in_flight[ref] = (job, index, actor)
        self._load[index] += 1

    def next_result(self) -> tuple[Any, Any, BaseException | None]:
        """Wait for any batch; return (job, values, None) or (job, None, error)."""
        ray = self._ray
        ready, _ = ray.wait(list(self._in_flight), num_returns=1)
        ref = ready[0]
        job, index, actor = self._in_flight.pop(ref)
        self._load[index] -= 1
        try:
            values = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            if self._actors[index] is actor:  # not replaced yet by an earlier lost batch
                self._replace(index, exc)
            return job, None, ActorLostError(f"actor {index} died: {exc}".splitlines()[0])
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            return job, None, cause if isinstance(cause, BaseException) else exc
        self.batches_done[index] += 1
        return job, values, None

    def _replace(self, index: int, exc: BaseException) -> None:
        """Put a new actor in the slot of a dead one (its other batches fail on their own)."""
        if self.n_replaced >= int(self.max_actor_replacements or 0):
            raise ActorLostError(
                f"{self.n_replaced} actors were replaced already and another died; giving up "
                f"(last: {exc})"
            ) from exc
        self.n_replaced += 1
        old = self._actors[index]
        self._actors[index] = self._actor_cls.remote(self.factory)
        with contextlib.suppress(Exception):  # the actor may be gone already
            self._ray.kill(old, no_restart=True)

    def abandon(self) -> None:
        """Cancel the batches in flight (after an error or an interrupt)."""
        for ref in list(self._in_flight):
            with contextlib.suppress(Exception):  # best effort
                self._ray.cancel(ref, force=False)
        self._in_flight.clear()
        self._load = [0] * len(self._actors)

    def close(self) -> None:
        """Kill the actors (the Ray cluster itself is left running)."""
        self.abandon()
        ray = self._ray
        for actor in self._actors:
            with contextlib.suppress(Exception):  # already dead
                ray.kill(actor, no_restart=True)
        self._actors = []
        self._load = []
