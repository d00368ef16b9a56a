"""Shared pieces of the benchmark scripts: the GEMM floor, nfev counting,
the environment report. Run the scripts from the repository root with
``PYTHONPATH=$PWD python benchmarks/<script>.py``."""

import contextlib
import datetime
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.optimize
from threadpoolctl import ThreadpoolController, threadpool_info

from sklearn_cae import ContractiveAutoencoder, _objective


def environment():
    """Date, CPU, Python/numpy and the BLAS libraries as threadpoolctl sees them."""
    cpu = platform.processor()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    lines = [
        f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"cpu: {cpu}, {len(os.sched_getaffinity(0))} cores",
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}",
    ]
    for lib in threadpool_info():
        if lib["user_api"] == "blas":
            lines.append(
                f"blas: {lib['internal_api']} {lib['version']} {lib['architecture']} "
                f"({lib['num_threads']} threads) {lib['filepath'].rsplit('/', 1)[-1]}"
            )
    return "\n".join(lines)


def data(N, n, dtype, seed=0):
    """Uniform [0, 1) data, C-contiguous, in ``dtype``."""
    return np.random.RandomState(seed).random_sample((N, n)).astype(dtype, copy=False)


def _five_gemms(X, W, H):
    A = X @ W.T  # noqa: F841 (forward)
    Z = H @ W  # decoder
    H.T @ Z  # dJ/dD
    dH = Z @ W.T  # back to the hidden layer
    dH.T @ X  # dJ/dW


def floor_seconds(X, W, H):
    """The five GEMMs of one evaluation alone, the faster of two ways.

    Full batch with numpy's default BLAS threads, and the rows split in
    halves over two threads with one BLAS thread each (on a loaded machine
    the second is often much faster, so taking the minimum keeps the floor
    honest). Returns ``(floor, full_batch, split, split_cpu)`` seconds, the
    last the process CPU time of the split variant.
    """
    t0 = time.perf_counter()
    _five_gemms(X, W, H)
    full = time.perf_counter() - t0
    half = X.shape[0] // 2
    t0, c0 = time.perf_counter(), time.process_time()
    with _BLAS.limit(limits=1):
        other = _OTHER_THREAD.submit(_five_gemms, X[half:], W, H[half:])
        _five_gemms(X[:half], W, H[:half])
        other.result()
    split, split_cpu = time.perf_counter() - t0, time.process_time() - c0
    return min(full, split), full, split, split_cpu


# Created once, like the workspace of a fit, so the split floor pays for
# neither thread creation nor threadpoolctl's library scan.
_OTHER_THREAD = ThreadPoolExecutor(1)
_BLAS = ThreadpoolController().select(user_api="blas")


def floor_inputs(X, k, seed=0):
    """``W`` and ``H`` of the right shapes and dtype for :func:`floor_seconds`."""
    rng = np.random.RandomState(seed)
    W = rng.uniform(-0.05, 0.05, (k, X.shape[1])).astype(X.dtype)
    return W, np.tanh(X @ W.T)


@contextlib.contextmanager
def counting_evaluations():
    """Record the ``nfev`` scipy reports for every ``minimize`` call inside."""
    original = scipy.optimize.minimize
    nfev = []

    def minimize(*args, **kwargs):
        result = original(*args, **kwargs)
        nfev.append(result.nfev)
        return result

    scipy.optimize.minimize = minimize
    try:
        yield nfev
    finally:
        scipy.optimize.minimize = original


def seconds_per_evaluation(estimator, X, y=None):
    """Fit ``estimator`` once; wall time of the fit divided by scipy's nfev."""
    with counting_evaluations() as nfev:
        t0 = time.perf_counter()
        estimator.fit(X) if y is None else estimator.fit(X, y)
        elapsed = time.perf_counter() - t0
    return elapsed / nfev[-1]


def objective_setup(X, n_components, **params):
    """``(theta, kwargs, n_threads)``: ``_objective.loss_and_grad``'s keyword
    arguments (but the workspace) as ``fit`` passes them."""
    cae = ContractiveAutoencoder(n_components, random_state=0, **params)
    n_threads = cae._n_threads(X)
    theta = cae._initial_theta(X.shape[1], np.random.RandomState(0))
    fun = cae._make_objective(X, None, _objective.Workspace(n_threads))
    kwargs = {key: value for key, value in fun.keywords.items() if key not in ("X", "workspace")}
    return theta, kwargs, n_threads


def median(values):
    return float(np.median(values))
