"""The Ray backend: a local 2-CPU Ray cluster, two actors, results equal to the local backend.

One cluster is shared by the whole module (Ray takes ~10 s to start).
"""

from __future__ import annotations

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import runtime_support
from runtime_support import (
    REAL_METHOD,
    FailingModel,
    KillOnceFactory,
    PlantedFactory,
    RecordingModel,
    explain_lsq,
    planted,
)

import interplay
from interplay.runtime import EngineOptions, ModelQueryError, QueryEngine

N_FEATURES = 12


@pytest.fixture(scope="module")
def ray_cluster():
    # Test helpers live outside the installed package: ship them to the workers by value.
    ray.cloudpickle.register_pickle_by_value(runtime_support)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        ray.cloudpickle.unregister_pickle_by_value(runtime_support)


def test_two_actors_give_the_local_result(ray_cluster, tmp_path):
    factory = PlantedFactory(N_FEATURES)
    local = explain_lsq(QueryEngine(model_factory=factory, n_features=N_FEATURES), N_FEATURES)
    with QueryEngine(
        model_factory=factory,
        n_features=N_FEATURES,
        backend="ray",
        num_actors=2,
        batch_size=8,
        cache_dir=tmp_path,
    ) as engine:
        distributed = explain_lsq(engine, N_FEATURES)
        pool = engine.ray_pool
        assert len({info["pid"] for info in pool.infos}) == 2
        assert all(done > 0 for done in pool.batches_done)  # both actors worked
        assert sum(pool.batches_done) == engine.stats.n_model_calls
        assert engine.fingerprint() == factory().fingerprint()  # asked from an actor
        assert len(engine.cache) == engine.stats.n_unique
    assert distributed.allclose(local, atol=0.0)
    assert distributed.n_queries == local.n_queries


def test_actor_killed_mid_run_loses_nothing(ray_cluster, tmp_path):
    marker = tmp_path / "killed.pid"
    factory = KillOnceFactory(marker, kill_at=3, delay=0.05, n=N_FEATURES)
    batch = 16
    with QueryEngine(
        model_factory=factory,
        n_features=N_FEATURES,
        backend="ray",
        num_actors=2,
        batch_size=batch,
        cache_dir=tmp_path,
        retry_backoff=0.0,
    ) as engine:
        result = explain_lsq(engine, N_FEATURES, budget=400)
        pool = engine.ray_pool
        stats = engine.stats
        assert marker.exists()  # an actor really was SIGKILLed mid-batch
        assert pool.n_replaced == 1
        assert stats.n_evaluated == stats.n_unique and stats.n_failed == 0
        # at most the dead actor's batches (one running, one queued) were sent again
        lost_rows = stats.n_model_rows - stats.n_evaluated
        assert 0 < lost_rows <= pool.max_in_flight * batch
        assert len(engine.cache) == stats.n_unique
    local = explain_lsq(planted(N_FEATURES), N_FEATURES, budget=400)
    assert result.allclose(local, atol=0.0)


def test_model_errors_on_actors_name_the_rows(ray_cluster, rng):
    f = planted(N_FEATURES)
    masks = rng.random((80, N_FEATURES)) < 0.5
    model = FailingModel(f, poisoned=masks[[11]], transient=1)
    with QueryEngine(
        model, N_FEATURES, backend="ray", num_actors=2, batch_size=10, retry_backoff=0.0
    ) as engine:
        with pytest.raises(ModelQueryError, match="out of memory") as info:
            engine(masks)
        expected = np.flatnonzero((masks == masks[11]).all(axis=1))
        np.testing.assert_array_equal(info.value.rows, expected)
        keep = np.ones(masks.shape[0], dtype=bool)
        keep[expected] = False
        before = engine.stats.n_model_rows
        np.testing.assert_array_equal(engine(masks[keep]), f.truth.predict(masks[keep]))
        assert engine.stats.n_model_rows == before  # all answered from memory


def test_explain_on_ray_equals_local(ray_cluster):
    method = REAL_METHOD
    f = planted(N_FEATURES)
    kw = {"method": method, "budget": 300, "max_order": 2, "random_state": 2}
    local = interplay.explain(f, N_FEATURES, **kw)
    on_ray = interplay.explain(
        f, N_FEATURES, engine=EngineOptions(backend="ray", num_actors=2, batch_size=16), **kw
    )
    assert on_ray.allclose(local, atol=0.0)
    assert on_ray.metadata["engine"]["n_model_calls"] >= 2


def test_cost_is_computed_on_an_actor(ray_cluster, rng):
    model = RecordingModel(planted(N_FEATURES), with_cost=True)
    masks = rng.random((100, N_FEATURES)) < 0.5
    with QueryEngine(model, N_FEATURES, backend="ray", num_actors=1, batch_size=10) as engine:
        np.testing.assert_array_equal(engine(masks), model.function.truth.predict(masks))
        assert engine.ray_pool.has_cost


class _FakeCluster:
    """Stands in for the ``ray`` module's resource report (what a GPU cluster would say)."""

    def __init__(self, resources):
        self.resources = resources

    def cluster_resources(self):
        return self.resources


@pytest.mark.parametrize(
    ("resources", "kwargs", "expected"),
    [
        ({"CPU": 16.0, "GPU": 4.0}, {}, (4, 1.0)),  # one actor per GPU
        ({"CPU": 16.0, "GPU": 4.0}, {"num_gpus_per_actor": 0.5}, (8, 0.5)),  # two per GPU
        ({"CPU": 16.0, "GPU": 4.0}, {"num_gpus_per_actor": 2}, (2, 2.0)),  # model on 2 GPUs
        ({"CPU": 6.0}, {}, (6, 0.0)),  # no GPU: one actor per CPU
        ({"CPU": 6.0, "GPU": 2.0}, {"num_gpus_per_actor": 0, "num_actors": 3}, (3, 0.0)),
    ],
)
def test_actor_count_and_gpus_follow_the_cluster(resources, kwargs, expected):
    from interplay.runtime.ray_backend import RayActorPool

    pool = RayActorPool(PlantedFactory(), **kwargs)
    pool._ray = _FakeCluster(resources)
    assert pool._resources() == expected


def test_more_actors_than_gpus_warns():
    from interplay.runtime.ray_backend import RayActorPool

    pool = RayActorPool(PlantedFactory(), num_actors=3, num_gpus_per_actor=1)
    pool._ray = _FakeCluster({"CPU": 8.0, "GPU": 2.0})
    with pytest.warns(RuntimeWarning, match="GPU"):
        assert pool._resources() == (3, 1.0)


def test_actors_that_keep_dying_end_the_run_with_an_error(ray_cluster, rng):
    from interplay.runtime.ray_backend import ActorLostError

    with QueryEngine(
        model_factory=runtime_support.AlwaysDieFactory(),
        n_features=N_FEATURES,
        backend="ray",
        num_actors=1,
        max_retries=0,
        fingerprint="dies",
    ) as engine:
        with pytest.raises((ActorLostError, ModelQueryError)):
            engine(rng.random((40, N_FEATURES)) < 0.5)
        assert engine.stats.n_evaluated == 0


def test_a_factory_that_fails_is_reported(ray_cluster, rng):
    engine = QueryEngine(
        model_factory=runtime_support.BrokenFactory(),
        n_features=N_FEATURES,
        backend="ray",
        num_actors=1,
    )
    with pytest.raises(Exception, match="weights not found"):
        engine(rng.random((4, N_FEATURES)) < 0.5)
    engine.close()


def test_no_cluster_at_the_address_is_one_clear_error_within_seconds():
    """In a fresh process: the addresses where nothing listens fail in seconds (``ray.init``
    alone retries them for minutes). "auto" finds any cluster running on this machine (the
    test's own), so its failure is played by ``ray.init`` raising what Ray raises then."""
    import subprocess
    import sys
    import time

    script = (
        "import ray\n"
        "from interplay.runtime.ray_backend import connect_ray\n"
        "def no_cluster(**kwargs):\n"
        "    raise ConnectionError('Could not find any running Ray instance.')\n"
        "for address in ['127.0.0.1:1', 'ray://127.0.0.1:1', 'not an address', 'auto']:\n"
        "    if address == 'auto':\n"
        "        ray.init = no_cluster\n"
        "    try:\n"
        "        connect_ray(address)\n"
        "    except ConnectionError as exc:\n"
        "        print(exc)\n"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=False)
    lines = out.stdout.splitlines()
    assert time.perf_counter() - start < 60
    assert len(lines) == 4, out.stderr
    assert "no Ray cluster answers at '127.0.0.1:1'" in lines[0]
    assert "ray start --head" in lines[0] and "'ray://127.0.0.1:1'" in lines[1]
    assert "is not 'auto', 'host:port'" in lines[2]
    assert lines[3].startswith("cannot join the Ray cluster at 'auto' (Could not find")
