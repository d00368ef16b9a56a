"""Rows that live in this process (numpy arrays, scipy.sparse matrices): the
functions of every backend (see ``_backends.FUNCTIONS``), and how many
threads and how many rows at once an evaluation uses, the workspace of
buffers and threads it runs in, and the objective built on them from the
kernels of ``_objective``.

Its functions take arrays, numbers and the frozen ``Settings`` of the call;
only :func:`validate` receives the estimator (for scikit-learn's
``validate_data``).
"""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array, validate_data
from threadpoolctl import threadpool_info, threadpool_limits

from .. import _objective
from .._objective import decode, encode, jacobian  # noqa: F401 (this backend's own)


# ------------------------------------------------------------------ the rows
def check_settings(settings):
    """Every setting runs in process."""


def validate(estimator, X, reset):
    """``X`` validated by scikit-learn (a float array, or a CSR matrix)."""
    X = validate_data(
        estimator, X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], reset=reset
    )
    return X.tocsr() if sp.issparse(X) else X  # row chunks


def validate_codes(H):
    """Codes (inverse_transform's input) validated by scikit-learn."""
    return check_array(H, dtype=[np.float64, np.float32])


def extremes(X):
    """``(min, max)`` of ``X``'s stored values in its dtype, None if none."""
    values = X.data if sp.issparse(X) else X
    if not values.size:
        return None
    return values.min(), values.max()


def hold(X):
    """Rows in this process are held already."""
    return X


def split(X, test_size, random_state):
    """``(X_train, X_val)``: scikit-learn's ``train_test_split``."""
    return train_test_split(X, test_size=test_size, random_state=random_state)


def cast(A, dtype):
    """``A`` in ``dtype`` (itself if it is already)."""
    return A.astype(dtype, copy=False)


def to_numpy(A):
    """``A`` itself: a numpy array (or sparse matrix) already."""
    return A


def vector(theta, X):
    """The flat parameters ``theta`` in the dtype of the rows ``X`` (Adam
    steps in it)."""
    return theta.astype(X.dtype, copy=False)


def parameters(theta, X, settings):
    """``(W, b, D, c)`` of the flat ``theta``, in ``X``'s dtype (copies)."""
    params = _objective.unpack(theta, X.shape[1], settings.n_components, settings.tied)
    return tuple(p.astype(X.dtype) for p in params)


def minibatches(n_samples, batch_size, shuffle, random_state):
    """One epoch's minibatches of ``n_samples`` rows: ``(rows, n_rows)``
    pairs, ``rows`` a slice, or an index array in the order of
    ``random_state.permutation`` when ``shuffle``."""
    order = random_state.permutation(n_samples) if shuffle else None
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        yield (slice(start, stop) if order is None else order[start:stop]), stop - start


#: Rows per thread before an evaluation on all rows splits them.
MIN_ROWS_PER_THREAD = 256
#: An Adam minibatch's: below, it runs on one thread and BLAS's own threads
#: share its products, which took less time for batches of 64 and 128 rows;
#: split, from 256 rows on (benchmarks/README.md, "Threads of an Adam
#: minibatch").
MIN_BATCH_ROWS_PER_THREAD = 128
#: Elements per thread before elementwise work on the parameters (Adam's
#: step, the gradient's parameter-sized end) is shared between threads:
#: dispatching a thread costs about what this many additions do.
MIN_ELEMENTS_PER_THREAD = 2**15


# -------------------------------------------------------------------- threads
def _blas_threads_now():
    blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    return min(blas, default=1)


class _BlasHold:
    """Which workspace holds the process's BLAS libraries at one thread.

    OpenBLAS's thread count is process-wide and threadpoolctl lets one
    thread at a time change it, so concurrent fits share one limit: the
    first workspace to need it takes it (``with threadpool_limits``, entered
    and left in its fit's thread) and the others run under it; when the
    holder leaves, the next evaluation of another fit takes it again. The
    count a fit sees before entering is the one from outside every fit.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._holder = None
        self._outside = None

    def outside_threads(self):
        """BLAS threads as the user (threadpoolctl, joblib) allows them,
        whatever fits run at this moment."""
        with self._lock:
            return self._outside if self._holder is not None else _blas_threads_now()

    def take(self, workspace):
        """Limit BLAS to one thread for ``workspace`` unless another holds it;
        returns the entered limiter, or None."""
        with self._lock:
            if self._holder is not None:
                return None
            self._outside = _blas_threads_now()
            limiter = threadpool_limits(limits=1, user_api="blas").__enter__()
            self._holder = workspace
            return limiter

    def release(self, limiter):
        with self._lock:
            self._holder = None
            limiter.__exit__(None, None, None)


BLAS = _BlasHold()


class Workspace:
    """Buffers, worker threads and BLAS settings reused across the
    evaluations of one fit.

    Create one per fit (``with Workspace(n) as ws:``) and pass it to
    :func:`loss_and_grad`; never share it between concurrent fits. Inside
    the block every BLAS library keeps one thread (shared with concurrent
    fits, see :class:`_BlasHold`) and an evaluation deals its rows to
    ``n_threads`` threads (the caller is one of them), each running its
    share's matrix products and elementwise work on its own buffers, so both
    kinds of work use every core. The split of rows between threads is
    fixed, so results are reproducible for a given ``n_threads``.

    One BLAS thread per worker also means no BLAS thread is ever idle:
    OpenBLAS's idle threads spin for about 0.1 s after a multi-threaded
    call, and on a 2-core machine that spinning took the second core from
    the elementwise work between two-threaded products (and slowed
    L-BFGS-B's own vector operations under load).

    An Adam fit's workspace (``minibatch=True``) holds BLAS at one thread
    only while an evaluation splits its rows: a minibatch too small to
    split runs on one thread, and BLAS's own threads (as many as the user
    allows) share its products.

    Parameters
    ----------
    n_threads : int, default=1
        Threads an evaluation uses.
    minibatch : bool, default=False
        Evaluations on one thread leave BLAS its threads.
    """

    def __init__(self, n_threads=1, minibatch=False):
        self.n_threads = n_threads
        self.minibatch = minibatch
        self._buffers = {}
        self._executor = None
        self._active = False
        self._limiter = None

    def buffer(self, key, shape, dtype):
        """An uninitialised array reused between calls with the same key."""
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buf

    def map(self, fun, n_tasks):
        """``[fun(0), ..., fun(n_tasks - 1)]``, on up to ``n_threads`` threads
        (no task, an empty list: the rows of an empty block)."""
        if self._active:
            self._hold_blas(n_tasks > 1 or not self.minibatch)
        return self.run(fun, n_tasks)

    def run(self, fun, n_tasks):
        """:meth:`map` for work that calls no BLAS (Adam's step): the BLAS
        setting is left as it is."""
        if n_tasks <= 1:
            return [fun(0) for _ in range(n_tasks)]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.n_threads - 1)
        futures = [self._executor.submit(fun, task) for task in range(1, n_tasks)]
        try:
            first = fun(0)
        finally:  # an interrupt must not leave tasks writing the buffers
            wait(futures)
        return [first] + [future.result() for future in futures]

    def shares(self, size, unit=1):
        """Bounds of contiguous shares of ``range(size)`` for :meth:`run`, at
        most ``n_threads`` of them, each of :data:`MIN_ELEMENTS_PER_THREAD`
        elements at least (``unit`` elements per index)."""
        n_shares = max(1, min(self.n_threads, size * unit // MIN_ELEMENTS_PER_THREAD))
        return [size * share // n_shares for share in range(n_shares + 1)]

    def _hold_blas(self, hold):
        """Hold BLAS at one thread (unless another workspace does), or let go."""
        if hold and self._limiter is None:
            self._limiter = BLAS.take(self)
        elif not hold and self._limiter is not None:
            BLAS.release(self._limiter)
            self._limiter = None

    def __enter__(self):
        self._active = True
        self._hold_blas(not self.minibatch)
        return self

    def __exit__(self, *exc_info):
        self._active = False
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None
        self._hold_blas(False)
        self._buffers.clear()


def workspace(X, minibatch=False):
    """A :class:`Workspace` with threads enough for the objective on all the
    rows ``X`` (``minibatch``: and for Adam's minibatches)."""
    return Workspace(n_threads(X.shape[0], minibatch), minibatch)


def n_threads(n_rows, minibatch=False):
    """Threads for the objective on ``n_rows`` rows (an Adam minibatch's
    follow its own rows): as many as BLAS may use (so threadpoolctl's and
    joblib's limits hold), when there are enough rows to share."""
    rows_per_thread = MIN_BATCH_ROWS_PER_THREAD if minibatch else MIN_ROWS_PER_THREAD
    if n_rows < 2 * rows_per_thread:
        return 1
    return max(1, min(BLAS.outside_threads(), n_rows // rows_per_thread))


def threads_in(workspace, n_rows, minibatch=False):
    """Threads of an evaluation on ``n_rows`` rows in ``workspace`` (None: one)."""
    return 1 if workspace is None else min(workspace.n_threads, n_threads(n_rows, minibatch))


# --------------------------------------------------------------- chunk budget
def rows_in_working_memory(working_memory, row_bytes, memory_share=1.0):
    """How many rows of ``row_bytes`` temporaries fit in ``memory_share`` of
    ``working_memory`` MiB (at least 1)."""
    return max(1, int(memory_share * working_memory * 2**20 // row_bytes))


def objective_memory_share(settings):
    """The share of working_memory for the objective's buffers, which a fit
    keeps between evaluations: half when something runs beside them (the
    CAE+H term, the validation score, the verbose reconstruction: each gets
    the other half), else all of it."""
    runs_beside = settings.hessian_penalty > 0 or settings.early_stopping or settings.verbose
    return 0.5 if runs_beside else 1.0


def chunk_rows(X, settings, n_threads=1, memory_share=1.0):
    """Rows per chunk of ``_objective.loss_and_grad_sums`` such that the
    temporaries of ``n_threads`` chunks fit in ``memory_share`` of working_memory,
    at most ``_objective.MAX_CHUNK_ROWS``, all chunks of about the same size
    and every thread getting as many."""
    row_bytes = _objective.row_bytes("loss_and_grad", X, settings.n_components, loss=settings.loss)
    rows = rows_in_working_memory(settings.working_memory, row_bytes * n_threads, memory_share)
    rows = min(rows, _objective.MAX_CHUNK_ROWS)
    n_chunks = max(1, -(-X.shape[0] // rows))  # one (empty) chunk of no rows
    n_chunks = -(-n_chunks // n_threads) * n_threads
    return max(1, -(-X.shape[0] // n_chunks))


def reconstruction_rows(X, settings, memory_share=1.0):
    """Rows per chunk of the reconstruction sums and losses of ``X``."""
    return _rows_of("reconstruction", X, settings, memory_share)


def _rows_of(kernel, X, settings, memory_share=1.0):
    """Rows per chunk of ``kernel`` on ``X`` within ``memory_share`` of
    working_memory, at most all of them."""
    row_bytes = _objective.row_bytes(kernel, X, settings.n_components, loss=settings.loss)
    rows = rows_in_working_memory(settings.working_memory, row_bytes, memory_share)
    return max(1, min(rows, X.shape[0]))


# ------------------------------------------------------------------ objective
def kernel_args(X, settings, n_threads, gradient=True, grad_dtype=np.float64):
    """The keyword arguments of ``_objective.loss_and_grad_sums`` for the
    rows ``X`` shared by ``n_threads`` threads."""
    return dict(
        grad_dtype=grad_dtype,
        n_components=settings.n_components,
        activation=settings.activation,
        loss=settings.loss,
        tied=settings.tied,
        contraction=settings.contraction,
        chunk_rows=chunk_rows(X, settings, n_threads, objective_memory_share(settings)),
        gradient=gradient,
    )


def full_objective(X, settings, workspace=None, random_state=None, gradient=True):
    """The objective on all the rows ``X``: ``(fun, seed)``, ``fun`` being
    ``theta -> (J, grad)`` (``grad`` None without ``gradient``): what L-BFGS
    minimises and ``loss_`` reports. With ``hessian_penalty``, its CAE+H
    corruptions are drawn once, from ``seed`` (drawn from ``random_state``),
    so every evaluation sees the same; else ``seed`` is None. Without a
    ``workspace``, one thread and fresh buffers."""
    threads = threads_in(workspace, X.shape[0])
    return _objective_on(X, settings, workspace, threads, random_state, gradient)


def minibatch_objective(X, settings, workspace, random_state, batch_size, shuffle):
    """``(fun, epoch)`` for Adam: ``epoch()`` yields one epoch's minibatches
    of the rows ``X`` (:func:`minibatches`) as ``(rows, n_rows)``, and
    ``fun(theta, rows)`` is the objective of ``X[rows]`` (:func:`batch_objective`)."""
    objective = batch_objective(settings, workspace, random_state)

    def fun(theta, rows):
        return objective(theta, X[rows])

    return fun, functools.partial(minibatches, X.shape[0], batch_size, shuffle, random_state)


def batch_objective(settings, workspace=None, random_state=None):
    """``fun(theta, X) -> (J, grad)``: the objective of an Adam minibatch, the
    rows ``X``, as :func:`full_objective` on them (its ``alpha`` term divided
    by its own rows, as MLP's), on the threads its own rows get (so its
    result depends on its rows alone), with CAE+H corruptions of its own.
    ``grad`` is of ``X``'s dtype, as the parameters Adam steps."""

    def fun(theta, X):
        threads = threads_in(workspace, X.shape[0], minibatch=True)
        objective = _objective_on(X, settings, workspace, threads, random_state, True, X.dtype)
        return objective[0](theta)

    return fun


def _objective_on(
    X, settings, workspace, threads, random_state, gradient=True, grad_dtype=np.float64
):
    """``(fun, seed)`` of :func:`full_objective` on the rows ``X``, its
    gradient of ``grad_dtype``."""
    if settings.loss == "cross_entropy":
        X = _objective.clip_unit_interval(X)  # a copy only if a value is outside
    args = kernel_args(X, settings, threads, gradient, grad_dtype)

    def fun(theta):  # looked up at each call: tests patch _objective.loss_and_grad
        return _objective.loss_and_grad(theta, X, alpha=settings.alpha, workspace=workspace, **args)

    if settings.hessian_penalty == 0:
        return fun, None
    seed = int(random_state.randint(np.iinfo(np.int32).max))
    row_bytes = _objective.row_bytes(
        "hessian_penalty", X, settings.n_components, activation=settings.activation
    )
    hessian_args = dict(
        n_components=settings.n_components,
        activation=settings.activation,
        tied=settings.tied,
        hessian_penalty=settings.hessian_penalty,
        n_corruptions=settings.n_corruptions,
        corruption_std=settings.corruption_std,
        seed=seed,
        # beside the objective
        chunk_rows=rows_in_working_memory(settings.working_memory, row_bytes, 0.5),
    )

    def fun_with_hessian_term(theta):
        J, grad = fun(theta)
        J_h, grad_h = _objective.hessian_penalty_and_grad(theta, X, **hessian_args)
        if grad is not None:
            grad += grad_h  # in the gradient's dtype
        return J + J_h, grad

    return fun_with_hessian_term, seed


# ------------------------------------------------------------ reconstruction
def mean_reconstruction(X, params, settings, memory_share=1.0):
    """The mean reconstruction loss of the rows ``X`` at ``params = (W, b,
    D, c)``, in chunks that fit in ``memory_share`` of working_memory."""
    chunk_rows = reconstruction_rows(X, settings, memory_share)
    return _objective.mean_reconstruction_loss(
        X, *params, settings.activation, settings.loss, chunk_rows
    )


def reconstruction_losses(X, params, settings):
    """Each row's reconstruction loss, in chunks that fit in working_memory."""
    chunk_rows = reconstruction_rows(X, settings)
    return _objective.reconstruction_losses(
        X, *params, settings.activation, settings.loss, chunk_rows
    )


def baseline_loss(X, settings):
    """Half the total variance of ``X``'s columns: the mean squared-error
    loss of reconstructing every row by the mean row. The stopping rule
    measures improvements in its units (``tol`` times it), so the rule does
    not depend on the data's scale. Over row chunks that fit in
    working_memory."""
    return _objective.half_total_variance(_objective.column_moments(X, moments_rows(X, settings)))


def moments_rows(X, settings):
    """Rows per chunk of ``_objective.column_moments`` of ``X``, at most
    ``_objective.MAX_CHUNK_ROWS``: its float64 deviations are reused in
    cache-sized chunks rather than allocated for all rows at once."""
    return min(_rows_of("moments", X, settings), _objective.MAX_CHUNK_ROWS)
