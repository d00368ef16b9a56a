"""Shared pieces of the benchmark scripts: the GEMM floor, nfev counting,
the environment report. Run the scripts from the repository root with
``PYTHONPATH=$PWD python benchmarks/<script>.py``."""

import contextlib
import datetime
import os
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.optimize
from threadpoolctl import ThreadpoolController, threadpool_info

from sklearn_cae import ContractiveAutoencoder, _objective
from sklearn_cae._backends import inprocess


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


def settle():
    """Pause until BLAS's idle threads sleep again.

    OpenBLAS's worker threads keep spinning for about 0.1 s (2^28 cycles)
    after a multi-threaded call, waiting for the next one. Timed right after
    such a call, anything else finds one core taken: on this 2-core machine
    that made two single-threaded GEMMs run 1.2x slower than after a pause.
    Every timing below starts after this pause.
    """
    time.sleep(0.3)


def device_seconds(fun, sync, repeats):
    """Median seconds of ``fun()`` over ``repeats`` calls after a warm-up,
    each ending with ``sync()`` (a GPU's work done: ``torch.cuda.synchronize``)."""
    fun()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fun()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(fun, inner):
    """Wall and process CPU seconds per call of ``fun``: one warm-up call,
    :func:`settle`, then the mean of ``inner`` calls."""
    fun()
    settle()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(inner):
        fun()
    return (time.perf_counter() - t0) / inner, (time.process_time() - c0) / inner


class FiveGemms:
    """The five GEMMs of one evaluation alone (``X W^T``, ``H D``, ``H^T Z``,
    ``Z D^T``, ``dH^T X``), into outputs allocated once, like a fit's
    buffers (fresh outputs, :func:`plain_gemms_seconds`, cost up to 13%
    more in float64 at 8000x400x400)."""

    def __init__(self, X, W, H):
        N, n = X.shape
        k = W.shape[0]
        self.X, self.W, self.H = X, W, H
        self.A, self.dH = np.empty((N, k), X.dtype), np.empty((N, k), X.dtype)
        self.Z = np.empty((N, n), X.dtype)
        self.products = np.empty((2, k, n), X.dtype)

    def run(self, rows=slice(None), part=0):
        X, H, A, Z, dH = (a[rows] for a in (self.X, self.H, self.A, self.Z, self.dH))
        W = self.W
        np.matmul(X, W.T, out=A)  # forward
        np.matmul(H, W, out=Z)  # decoder
        np.matmul(H.T, Z, out=self.products[part])  # dJ/dD
        np.matmul(Z, W.T, out=dH)  # back to the hidden layer
        np.matmul(dH.T, X, out=self.products[part])  # dJ/dW

    def run_split(self):
        half = self.X.shape[0] // 2
        other = _OTHER_THREAD.submit(self.run, slice(half, None), 1)
        self.run(slice(0, half))
        other.result()


def floor_seconds(X, W, H, inner=1):
    """The five GEMMs of one evaluation alone, the faster of two ways.

    Full batch with numpy's default BLAS threads, and the rows split in
    halves over two threads with one BLAS thread each (what our objective
    does). Returns ``(floor, full_batch, split, split_cpu)`` seconds per
    evaluation (see :func:`timed`), the last the process CPU time of the
    split variant.
    """
    gemms = FiveGemms(X, W, H)
    full, _ = timed(gemms.run, inner)
    with _BLAS.limit(limits=1):
        split, split_cpu = timed(gemms.run_split, inner)
    return min(full, split), full, split, split_cpu


def plain_gemms_seconds(X, W, H, inner=1):
    """The five GEMMs written as plain numpy expressions (``A = X @ W.T``,
    ...), each allocating its output, with numpy's default BLAS threads:
    what they cost as a straightforward implementation writes them."""

    def run():
        A = X @ W.T  # noqa: F841 (forward)
        Z = H @ W  # decoder
        H.T @ Z  # dJ/dD
        dH = Z @ W.T  # back to the hidden layer
        dH.T @ X  # dJ/dW

    return timed(run, inner)[0]


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
    """Fit ``estimator`` once (after :func:`settle`); wall time of the fit
    divided by scipy's nfev."""
    settle()
    with counting_evaluations() as nfev:
        t0 = time.perf_counter()
        estimator.fit(X) if y is None else estimator.fit(X, y)
        elapsed = time.perf_counter() - t0
    return elapsed / nfev[-1]


def objective_setup(X, n_components, **params):
    """``(theta, kwargs, n_threads)``: ``_objective.loss_and_grad``'s keyword
    arguments (but the workspace) as ``fit`` passes them."""
    settings = ContractiveAutoencoder(n_components, random_state=0, **params)._settings()
    n_threads = inprocess.n_threads(X.shape[0])
    theta = _objective.initial_theta(
        X.shape[1], n_components, settings.activation, settings.tied, np.random.RandomState(0)
    )
    kwargs = dict(alpha=settings.alpha, **inprocess.kernel_args(X, settings, n_threads))
    return theta, kwargs, n_threads


def objective_seconds(theta, X, n_threads, kwargs, inner):
    """Wall and process CPU seconds of one ``loss_and_grad`` evaluation, in
    a workspace as ``fit`` makes it (see :func:`timed`)."""
    with inprocess.Workspace(n_threads) as ws:
        return timed(lambda: _objective.loss_and_grad(theta, X, workspace=ws, **kwargs), inner)


def median(values):
    return float(np.median(values))
