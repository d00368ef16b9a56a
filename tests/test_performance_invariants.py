"""What the performance work must not change: results across dtypes,
threads and chunking, and the process's BLAS settings."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_cae import ContractiveAutoencoder, _objective
from sklearn_cae._backends import inprocess


def _blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_float32_training_reaches_the_float64_loss():
    X = load_digits().data[:300, ::2] / 16.0
    # contraction=0.5 keeps this problem well conditioned: with the default
    # 0.1 it has nearby local minima, and float64 rounding-order changes in
    # the objective alone moved a fit from one to another (losses 2e-3
    # apart), which is not what this test is about.
    params = dict(n_components=8, contraction=0.5, max_iter=1000, tol=1e-5, random_state=0)
    m64 = ContractiveAutoencoder(**params).fit(X)
    m32 = ContractiveAutoencoder(**params).fit(X.astype(np.float32))
    # Both converged, so they are compared at a minimum, not mid-way.
    assert m64.n_iter_ < 1000 and m32.n_iter_ < 1000
    assert m32.components_.dtype == np.float32
    assert m32.loss_ == pytest.approx(m64.loss_, rel=1e-3)
    # The float32 parameters are as good when the loss is computed in float64.
    theta = _objective.pack(*(p.astype(np.float64) for p in m32._params()), True)
    J, _ = inprocess.full_objective(X, m64._settings())[0](theta)
    assert J == pytest.approx(m64.loss_, rel=1e-3)


def test_threaded_fit_is_reproducible_and_restores_blas_threads():
    X = np.random.RandomState(0).uniform(0, 1, (1200, 10))
    cae = ContractiveAutoencoder(6, max_iter=20, random_state=0, working_memory=0.05)
    with threadpool_limits(limits=2, user_api="blas"):  # two threads on any machine
        assert inprocess.n_threads(X.shape[0]) == 2
        a = cae.fit(X).components_.copy()
        assert set(_blas_threads()) == {2}
        np.testing.assert_array_equal(cae.fit(X).components_, a)
    with threadpool_limits(1):
        assert inprocess.n_threads(X.shape[0]) == 1


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("working_memory", [0.01, 0.5, 128])
def test_chunks_are_cache_sized_and_balanced(working_memory, n_threads):
    # That they fit in working_memory is measured in test_memory.py.
    X = np.zeros((5000, 30), dtype=np.float32)
    cae = ContractiveAutoencoder(20, working_memory=working_memory)
    rows = inprocess.chunk_rows(X, cae._settings(), n_threads)
    assert rows <= _objective.MAX_CHUNK_ROWS  # cache-sized
    n_chunks = -(-5000 // rows)
    assert n_chunks * rows - 5000 < n_chunks  # the last chunk is about as large


def test_workspace_keeps_every_blas_library_at_one_thread_inside():
    # The threads of an evaluation are the workspace's; a BLAS thread beyond
    # them would be idle, and OpenBLAS's idle threads spin on a core.
    with threadpool_limits(limits=2, user_api="blas"):  # more than one on any machine
        with inprocess.Workspace(2):
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {2}
