"""working_memory bounds what fit, score and tangents allocate, measured
with tracemalloc (whose peak includes numpy's arrays, in every thread).

Each path runs with working_memory at 1 and 3 MiB: its peak may grow by at
most the 2 MiB more it is given (plus SLACK), and at 3 MiB it stays within
3 MiB plus ALLOWANCE for what does not grow with the rows. Each kernel's count
of its bytes per row (``_objective.row_bytes``, what the budgets divide by)
is checked against what it allocates."""

import functools
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_cae import ContractiveAutoencoder, _objective
from sklearn_cae._backends import inprocess

MiB = 2**20
SMALL, LARGE = 1, 3  # MiB
# numpy's ufunc buffers (8192 values a call, per thread), Python objects,
# L-BFGS's history (about 25 vectors of the 1,088 parameters) and a few
# copies of the parameters per thread: measured up to 0.45 MiB (a fit at 1
# MiB peaked at 1.45 MiB).
ALLOWANCE = 0.6 * MiB
# The transient part of the above need not coincide with both peaks alike.
SLACK = 0.125 * MiB
N, K = 5000, 32  # n = k = 32: at LARGE, chunks are below the 2048-row cap


def _peak(fun):
    """Bytes allocated at the peak of ``fun()``."""
    tracemalloc.start()
    try:
        fun()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _check_bound(run, extra=0):
    """``run(working_memory)`` allocates at most ``working_memory``, besides
    ``extra`` bytes (its output, copies of the data) and ALLOWANCE."""
    run(SMALL)  # imports and caches, not measured
    small, large = (_peak(functools.partial(run, wm)) for wm in (SMALL, LARGE))
    assert large - small <= (LARGE - SMALL) * MiB + SLACK
    assert large <= LARGE * MiB + ALLOWANCE + extra


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).uniform(0, 1, (N, K))


def _sparse(X):
    return sp.csr_matrix(np.where(X < 0.5, 0.0, X))


def _cae(**params):
    return ContractiveAutoencoder(K, max_iter=1, random_state=0, **params)


@pytest.mark.parametrize(
    "params, sparse",
    [
        ({}, False),
        ({"loss": "cross_entropy"}, True),
        ({"hessian_penalty": 0.1, "n_corruptions": 1}, False),
        ({"hessian_penalty": 0.1, "n_corruptions": 1, "tied_weights": False}, True),
        ({"early_stopping": True, "loss": "cross_entropy"}, False),
    ],
)
def test_fit_stays_within_working_memory(X, params, sparse):
    data = _sparse(X) if sparse else X
    cae = _cae(working_memory=LARGE, **params)
    settings = cae._settings()
    threads = inprocess.n_threads(data.shape[0])
    rows = inprocess.chunk_rows(data, settings, threads, inprocess.objective_memory_share(settings))
    assert rows < min(_objective.MAX_CHUNK_ROWS, N / 2)  # the chunking is what binds
    # Early stopping splits the data: its two parts are a copy of X.
    copied = X.nbytes if cae.early_stopping else 0
    _check_bound(lambda wm: cae.set_params(working_memory=wm).fit(data), copied)


@pytest.mark.parametrize("loss, sparse", [("squared_error", False), ("cross_entropy", True)])
def test_score_stays_within_working_memory(X, loss, sparse):
    data = _sparse(X) if sparse else X
    cae = _cae(loss=loss, working_memory=LARGE).fit(X[:100])
    assert inprocess.reconstruction_rows(data, cae._settings()) < N  # more than one chunk
    _check_bound(lambda wm: cae.set_params(working_memory=wm).score(data))


def test_tangents_stay_within_working_memory_beyond_their_output(X):
    cae = _cae().fit(X[:100])
    data = _sparse(X[:250])
    output = 250 * 3 * (K + 1) * 8  # directions and singular values
    _check_bound(lambda wm: cae.set_params(working_memory=wm).tangents(data, 3), output)


def _kernel(kernel, X, loss, activation):
    """``kernel`` of ``_objective`` on the rows ``X`` as one chunk."""
    k, (m, n) = 20, X.shape
    theta = _objective.initial_theta(n, k, activation, True, np.random.RandomState(0))
    theta = theta.astype(X.dtype)
    W, b, D, c = _objective.unpack(theta, n, k, True)
    model = dict(n_components=k, activation=activation, tied=True)
    if kernel == "loss_and_grad":
        args = dict(alpha=0.0, loss=loss, contraction=0.1, chunk_rows=m)
        return lambda: _objective.loss_and_grad(theta, X, **model, **args)
    if kernel == "reconstruction":
        return lambda: _objective.reconstruction_loss_sum(X, W, b, D, c, activation, loss, m)
    if kernel == "hessian_penalty":
        args = dict(hessian_penalty=0.1, n_corruptions=2, corruption_std=0.1, seed=0)
        return lambda: _objective.hessian_penalty_and_grad(theta, X, **model, **args, chunk_rows=m)
    return lambda: _objective.tangents(X, W, b, activation, 1, m)


KERNELS = ["loss_and_grad", "reconstruction", "hessian_penalty", "tangents"]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("loss", ["squared_error", "cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("activation", ["logistic", "relu"])
def test_row_bytes_counts_what_each_kernel_allocates_per_row(
    kernel, loss, dtype, sparse, activation
):
    # What one chunk of 1024 rows allocates beyond one of 512, per row. Both
    # chunks exceed numpy's ufunc buffers (8192 values), which stop growing.
    X = np.random.RandomState(1).uniform(0, 1, (1024, 30)).astype(dtype)
    X = _sparse(X) if sparse else X
    _kernel(kernel, X[:512], loss, activation)()  # imports and caches, not measured
    small, large = (_peak(_kernel(kernel, rows, loss, activation)) for rows in (X[:512], X))
    output = 512 * (30 + 1) * X.dtype.itemsize if kernel == "tangents" else 0  # one direction
    measured = (large - small - output) / 512
    count = _objective.row_bytes(kernel, X, 20, loss=loss, activation=activation)
    assert measured <= count
    # Not wasteful either: the loosest count, the cross-entropy's
    # reconstruction, includes a clipped copy that data inside [0, 1] skips.
    assert measured > count / 3
