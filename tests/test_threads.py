"""Fits in any thread: the same model, BLAS at one thread inside every fit
(but around an Adam minibatch too small to split), concurrent fits
independent of each other, BLAS limits restored however a fit ends. (Speed
follows from the BLAS setting: benchmarks/bench_threads.py measures it.)"""

import threading
import warnings

import numpy as np
import pytest
from recorded_warnings import only_the_interrupt_warning
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_cae import ContractiveAutoencoder, _objective
from sklearn_cae._backends import inprocess

# 600 rows: enough for two threads per evaluation (256 rows each at least).
X = np.random.RandomState(0).rand(600, 10)


def _blas_threads():
    """The thread counts of the BLAS libraries loaded (numpy's, scipy's)."""
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def _set_blas_threads(n):
    """Set the BLAS thread count as OPENBLAS_NUM_THREADS would: from a thread
    that then ends, so no live thread keeps control of OpenBLAS's
    process-wide count (threadpoolctl lets only that thread change it)."""
    thread = threading.Thread(target=threadpool_limits, kwargs={"limits": n, "user_api": "blas"})
    thread.start()
    thread.join()


@pytest.fixture
def two_blas_threads():
    """BLAS at two threads whatever the machine."""
    before = _blas_threads()
    _set_blas_threads(2)
    assert _blas_threads() == {2}
    yield
    _set_blas_threads(min(before))


@pytest.fixture
def evaluations(monkeypatch):
    """Per thread name: (BLAS threads, objective threads) at each evaluation."""
    original = _objective.loss_and_grad
    seen = {}

    def loss_and_grad(theta, X, **kwargs):
        blas = _blas_threads()
        record = (blas.pop() if len(blas) == 1 else blas, kwargs["workspace"].n_threads)
        seen.setdefault(threading.current_thread().name, []).append(record)
        return original(theta, X, **kwargs)

    monkeypatch.setattr(_objective, "loss_and_grad", loss_and_grad)
    return seen


def _fit(**params):
    params = {"n_components": 5, "max_iter": 8, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ContractiveAutoencoder(**params).fit(X)


def _in_thread(fun, name):
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("value", fun()), name=name)
    thread.start()
    thread.join()
    return out["value"]


def test_a_fit_gives_the_same_model_with_the_same_settings_in_any_thread(
    two_blas_threads, evaluations
):
    main = _fit()
    worker = _in_thread(_fit, "worker")  # after a fit in the main thread
    np.testing.assert_allclose(worker.components_, main.components_, rtol=0, atol=1e-10)
    assert worker.loss_ == pytest.approx(main.loss_, rel=1e-10)
    # The same settings in both: two objective threads, one BLAS thread each
    # (a BLAS thread more per objective thread made such fits 4x-8x slower).
    assert set(evaluations["worker"]) == set(evaluations["MainThread"]) == {(1, 2)}
    assert _blas_threads() == {2}


@pytest.fixture
def blas_in_tasks(monkeypatch):
    """Per thread name of a fit: the BLAS threads inside each task of its
    evaluations (where the work runs, after the workspace took its limit)."""
    original = inprocess.Workspace.map
    seen = {}

    def map(workspace, fun, n_tasks):
        records = seen.setdefault(threading.current_thread().name, [])

        def task(i):
            blas = _blas_threads()
            records.append(blas.pop() if len(blas) == 1 else blas)
            return fun(i)

        return original(workspace, task, n_tasks)

    monkeypatch.setattr(inprocess.Workspace, "map", map)
    return seen


def test_concurrent_fits_each_give_what_they_give_alone(
    two_blas_threads, evaluations, blas_in_tasks
):
    params = [{"contraction": 0.3}, {"activation": "tanh", "n_components": 4, "max_iter": 12}]
    alone = _in_thread(lambda: [_fit(**p) for p in params], "alone")
    settings_alone = set(evaluations.pop("alone"))
    # Fit 1 decides its thread count while fit 0 is inside its first
    # evaluation, then both run side by side; from its 3rd evaluation on,
    # fit 1 runs after fit 0 has ended and let go of the BLAS limit.
    inside, meet = threading.Event(), threading.Barrier(2, timeout=30)
    fit0_done = threading.Event()
    calls = threading.local()
    original = _objective.loss_and_grad

    def loss_and_grad(theta, X, **kwargs):
        calls.n = getattr(calls, "n", 0) + 1
        if calls.n == 1:
            inside.set()
            meet.wait()
        elif calls.n == 3 and threading.current_thread().name == "fit1":
            assert fit0_done.wait(30)
        return original(theta, X, **kwargs)

    _objective.loss_and_grad = loss_and_grad
    results = [None, None]

    def fit(i):
        if i == 1:
            inside.wait(30)
        results[i] = _fit(**params[i])
        if i == 0:
            fit0_done.set()

    threads = [threading.Thread(target=fit, args=(i,), name=f"fit{i}") for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _objective.loss_and_grad = original
    assert settings_alone == {(1, 2)}
    # Neither saw the other's BLAS limit as the user's.
    assert {record[1] for name in ("fit0", "fit1") for record in evaluations[name]} == {2}
    # Inside every task of both, one BLAS thread: fit 1 took the limit
    # again once fit 0 let it go (from its 3rd evaluation on).
    assert len(evaluations["fit1"]) > 5
    assert set(blas_in_tasks["fit0"]) == set(blas_in_tasks["fit1"]) == {1}
    for result, reference in zip(results, alone, strict=True):
        np.testing.assert_allclose(result.components_, reference.components_, rtol=0, atol=1e-10)
    assert _blas_threads() == {2}  # restored, not left at one thread
    _in_thread(_fit, "after")
    assert set(evaluations["after"]) == {(1, 2)}  # and no thread kept control


@pytest.mark.parametrize("batch_size, minibatches", [(64, (1, 2)), (300, (2, 1))])
def test_adam_splits_a_minibatch_or_leaves_blas_its_threads(
    two_blas_threads, monkeypatch, batch_size, minibatches
):
    # Per evaluation: (its tasks, BLAS threads inside them). A minibatch of
    # under 256 rows runs as one task with BLAS's two threads; one of 300
    # rows splits, as the objective on all 600 rows does, BLAS at one.
    original = inprocess.Workspace.map
    seen = []

    def map(workspace, fun, n_tasks):
        def task(i):
            blas = _blas_threads()
            seen.append((n_tasks, blas.pop() if len(blas) == 1 else blas))
            return fun(i)

        return original(workspace, task, n_tasks)

    monkeypatch.setattr(inprocess.Workspace, "map", map)
    _fit(solver="adam", batch_size=batch_size, max_iter=2)
    assert set(seen) == {minibatches, (2, 1)}
    assert seen[-2:] == [(2, 1), (2, 1)]  # the objective of the returned parameters
    assert _blas_threads() == {2}


@pytest.mark.parametrize("ending", ["returns", "raises", "interrupted"])
def test_blas_limits_are_restored_however_a_fit_ends(
    two_blas_threads, evaluations, interrupt_at, ending
):
    if ending == "raises":
        with pytest.raises(ValueError, match="non-finite"):
            _fit(contraction=1e300)
    elif ending == "interrupted":
        interrupt_at(3)
        with only_the_interrupt_warning():
            ContractiveAutoencoder(5, random_state=0).fit(X)
    else:
        _fit()
    assert _blas_threads() == {2}
    _in_thread(_fit, "next")  # a later fit in another thread can still limit BLAS
    assert set(evaluations["next"]) == {(1, 2)}


def test_the_thread_count_respects_the_users_blas_limit():
    with threadpool_limits(limits=1, user_api="blas"):
        assert inprocess.n_threads(X.shape[0]) == 1
    with threadpool_limits(limits=2, user_api="blas"):
        assert inprocess.n_threads(X.shape[0]) == 2
        assert inprocess.n_threads(300) == 1  # too few rows to share
