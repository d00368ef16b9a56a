"""The contractive autoencoder objective and its analytic gradient.

Pure numpy/scipy, no scikit-learn. Notation (``X`` is ``(N, n)``,
``k`` hidden units)::

    A = X W^T + b           (N, k)   pre-activations
    H = f(A)                (N, k)   codes
    Z = H D + c             (N, n)   decoder pre-activations
    R = Z  or  sigmoid(Z)   (N, n)   reconstruction (squared_error / cross_entropy)

    J = (1/N) sum_i [rec_i + contraction * ||dh_i/dx_i||_F^2]
        + 0.5 * alpha * (||W||^2 [+ ||D||^2 if untied]) / N

with the exact penalty ``||dh_i/dx_i||_F^2 = sum_j f'(a_ij)^2 ||W_j||^2``
(square each Jacobian entry, then sum). The gradient is closed form; rows
are processed in chunks so the temporaries stay bounded in memory.

The parameters travel as one flat float64 vector ``theta`` (what L-BFGS
sees): ``[W.ravel(), b, D.ravel() (untied only), c]``.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ._activations import ACTIVATIONS, ZERO_CURVATURE


def n_params(n_features, n_components, tied):
    """Length of the flat parameter vector."""
    n_weights = n_features * n_components * (1 if tied else 2)
    return n_weights + n_components + n_features


def unpack(theta, n_features, n_components, tied):
    """Split ``theta`` into views ``(W (k, n), b (k,), D (k, n), c (n,))``.

    With tied weights ``D`` is ``W`` (the same array).
    """
    k, n = n_components, n_features
    W = theta[: k * n].reshape(k, n)
    pos = k * n
    if tied:
        D = W
    else:
        D = theta[pos : pos + k * n].reshape(k, n)
        pos += k * n
    b = theta[pos : pos + k]
    c = theta[pos + k : pos + k + n]
    return W, b, D, c


def pack(W, b, D, c, tied):
    """Inverse of :func:`unpack`: one flat float64 vector."""
    parts = [W.ravel()] + ([] if tied else [D.ravel()]) + [b, c]
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])


def _dense(X):
    return X.toarray() if sp.issparse(X) else X


def encode(X, W, b, activation):
    """Codes ``H = f(X W^T + b)``, shape ``(N, k)``; ``X`` may be sparse."""
    f = ACTIVATIONS[activation][0]
    return f(np.asarray(X @ W.T) + b)


def decode(H, D, c, loss):
    """Reconstruction ``R`` of codes ``H``, shape ``(N, n)``."""
    Z = H @ D + c
    if loss == "cross_entropy":
        return expit(Z)
    return Z


def reconstruction_loss(X, Z, loss):
    """Per-sample reconstruction loss from decoder pre-activations ``Z``.

    ``X`` is dense, shape ``(N, n)``; returns shape ``(N,)``. The
    cross-entropy is computed stably as ``softplus(Z) - X Z``.
    """
    if loss == "cross_entropy":
        return np.sum(np.logaddexp(0.0, Z) - X * Z, axis=1)
    E = Z - X
    return 0.5 * np.einsum("ij,ij->i", E, E)


def jacobian(X, W, b, activation):
    """Per-sample encoder Jacobians ``diag(f'(a_i)) W``, shape ``(N, k, n)``."""
    f, df, _ = ACTIVATIONS[activation]
    A = np.asarray(X @ W.T) + b
    F1 = df(A, f(A))
    return F1[:, :, None] * W[None, :, :]


def mean_reconstruction_loss(X, W, b, D, c, activation, loss, chunk_rows):
    """``(1/N) sum_i rec_i`` computed over row chunks (``X`` may be sparse)."""
    total = 0.0
    for start in range(0, X.shape[0], chunk_rows):
        Xc = _dense(X[start : start + chunk_rows])
        Z = encode(Xc, W, b, activation) @ D + c
        total += float(np.sum(reconstruction_loss(Xc, Z, loss), dtype=np.float64))
    return total / X.shape[0]


class Workspace:
    """Buffers, worker threads and BLAS settings reused across the
    evaluations of one fit.

    Create one per fit (``with Workspace(n) as ws:``) and pass it to
    :func:`loss_and_grad`; never share it between concurrent fits. Inside
    the block every BLAS library keeps one thread and an evaluation deals
    its rows to ``n_threads`` threads (the caller is one of them), each
    running its share's matrix products and elementwise work on its own
    buffers, so both kinds of work use every core. The split of rows
    between threads is fixed, so results are reproducible for a given
    ``n_threads``.

    One BLAS thread per worker also means no BLAS thread is ever idle:
    OpenBLAS's idle threads spin for about 0.1 s after a multi-threaded
    call, and on a 2-core machine that spinning took the second core from
    the elementwise work between two-threaded products (and made
    L-BFGS-B's own vector operations up to 18x slower under load).

    Parameters
    ----------
    n_threads : int, default=1
        Threads an evaluation uses.
    """

    def __init__(self, n_threads=1):
        self.n_threads = n_threads
        self._buffers = {}
        self._executor = None
        self._limit = None

    def buffer(self, key, shape, dtype):
        """An uninitialised array reused between calls with the same key."""
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buf

    def map(self, fun, n_tasks):
        """``[fun(0), ..., fun(n_tasks - 1)]``, on up to ``n_threads`` threads."""
        if n_tasks == 1:
            return [fun(0)]
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(self.n_threads - 1)
        futures = [self._executor.submit(fun, task) for task in range(1, n_tasks)]
        first = fun(0)
        return [first] + [future.result() for future in futures]

    def __enter__(self):
        from threadpoolctl import threadpool_limits

        self._limit = threadpool_limits(limits=1, user_api="blas")
        return self

    def __exit__(self, *exc_info):
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None
        if self._limit is not None:
            self._limit.restore_original_limits()
            self._limit = None
        self._buffers.clear()


def loss_and_grad(
    theta,
    X,
    *,
    n_components,
    activation,
    loss,
    tied,
    contraction,
    alpha,
    chunk_rows,
    workspace=None,
):
    """Objective ``J`` and its gradient with respect to ``theta``.

    Parameters
    ----------
    theta : ndarray of shape (n_params,)
        Flat parameters (see :func:`unpack`), any float dtype.
    X : ndarray or sparse matrix of shape (N, n)
        Training data; its dtype (float32 or float64) is the dtype of all
        arithmetic, except that the loss and the bias and penalty sums
        across chunks, and all sums across threads, are float64 (the
        weight gradients are summed over a thread's chunks in the data's
        dtype). Sparse rows are densified one chunk at a time.
    chunk_rows : int
        Rows processed at once; bounds the temporaries to
        ``O(chunk_rows * (n + k))`` per thread.
    workspace : Workspace, default=None
        Buffers and threads to reuse across calls; None uses fresh buffers
        and one thread.

    Returns
    -------
    J : float
    grad : ndarray of shape (n_params,), float64
    """
    N, n = X.shape
    k = n_components
    dtype = X.dtype
    ws = Workspace() if workspace is None else workspace
    W, b, D, c = unpack(np.asarray(theta, dtype=dtype), n, k, tied)
    f, df, d2f = ACTIVATIONS[activation]
    logistic = ACTIVATIONS["logistic"][0]
    curved = contraction != 0.0 and activation not in ZERO_CURVATURE
    s = np.einsum("ij,ij->i", W, W)  # ||W_j||^2, (k,)
    penalty_scale = (2.0 * contraction) * s  # d pen / d F1 = 2 F1 s, per unit
    n_chunks = -(-N // chunk_rows)
    n_tasks = min(ws.n_threads, n_chunks)
    rows = min(chunk_rows, N)

    def work(task):
        """Sums over the chunks of one thread's contiguous share of rows."""

        def buffer(name, shape):
            return ws.buffer((task, name), shape, dtype)

        A, H, F1, dA = (buffer(name, (rows, k)) for name in ("A", "H", "F1", "dA"))
        F2 = buffer("F2", (rows, k)) if curved else None
        Z = buffer("Z", (rows, n))
        dense = buffer("X", (rows, n)) if sp.issparse(X) else None
        ones = np.ones(rows, dtype=dtype)
        product = buffer("product", (k, n))
        gW = buffer("gW", (k, n))
        gW.fill(0.0)
        gD = gW if tied else buffer("gD", (k, n))
        gD.fill(0.0)
        gb, gc, sum_F1sq = np.zeros(k), np.zeros(n), np.zeros(k)
        rec = 0.0
        first, last = task * n_chunks // n_tasks, (task + 1) * n_chunks // n_tasks
        for start in range(first * rows, min(last * rows, N), rows):
            Xc = X[start : start + rows]
            m = Xc.shape[0]
            if dense is not None:
                Xc = Xc.toarray(out=dense[:m])
            a, h, f1, da, E = A[:m], H[:m], F1[:m], dA[:m], Z[:m]
            np.matmul(Xc, W.T, out=a)
            a += b
            f(a, out=h)
            np.matmul(h, D, out=E)
            E += c  # Z
            if loss == "cross_entropy":
                rec += float(np.sum(np.logaddexp(0.0, E) - Xc * E, dtype=np.float64))
                logistic(E, out=E)  # R
                E -= Xc
            else:
                E -= Xc
                rec += 0.5 * float(np.vdot(E, E))
            df(a, h, out=f1)
            sum_F1sq += np.einsum("ij,ij->j", f1, f1)
            np.matmul(E, D.T, out=da)  # dH
            if curved:  # dA = F1 (dH + 2 contraction F2 s)
                f2 = d2f(a, h, f1, out=F2[:m])
                f2 *= penalty_scale
                da += f2
            da *= f1
            # Every product is numpy's: scipy's gemm could accumulate in place
            # (beta=1), but its OpenBLAS ran two threads' calls one after
            # the other (an evaluation 1.6x-2x slower).
            gD += np.matmul(h.T, E, out=product)  # H^T E
            gW += np.matmul(da.T, Xc, out=product)  # dA^T X
            gb += ones[:m] @ da  # column sums: one BLAS pass, no temporary
            gc += ones[:m] @ E
        return rec, gW, gD, gb, gc, sum_F1sq

    grad = np.zeros(n_params(n, k, tied))
    gW, gb, gD, gc = unpack(grad, n, k, tied)  # views: the sums land in grad
    sum_F1sq = np.zeros(k)
    rec = 0.0
    for part in ws.map(work, n_tasks):
        rec += part[0]
        gW += part[1]  # when tied, it already holds the decoder's share
        if not tied:
            gD += part[2]
        gb += part[3]
        gc += part[4]
        sum_F1sq += part[5]

    W, D, s = (x.astype(np.float64, copy=False) for x in (W, D, s))
    J = rec + contraction * float(sum_F1sq @ s)
    gW += (2.0 * contraction) * sum_F1sq[:, None] * W
    gW += alpha * W
    sq_weights = float(np.einsum("ij,ij->", W, W))
    if not tied:
        sq_weights += float(np.einsum("ij,ij->", D, D))
        gD += alpha * D
    J += 0.5 * alpha * sq_weights
    grad /= N
    return J / N, grad


# ------------------------------------------------- higher-order contraction
#: Rows per block of corruption noise. The noise of block ``m`` for
#: corruption ``c`` is drawn from ``default_rng((seed, c, m))``, so it is the
#: same at every evaluation (L-BFGS sees a deterministic objective) and does
#: not depend on how rows are chunked, and it is never stored whole.
NOISE_BLOCK_ROWS = 256


def corruption_noise(seed, corruption, start, stop, n_features, std):
    """Corruption ``eps_c`` of rows ``start:stop``, shape ``(stop - start, n)``.

    Row ``i`` of corruption ``c`` is ``std`` times standard normal noise
    that depends only on ``(seed, c, i)``: it is drawn block by block of
    :data:`NOISE_BLOCK_ROWS` rows, float64.
    """
    B = NOISE_BLOCK_ROWS
    first, last = start // B, (stop - 1) // B
    blocks = [
        np.random.default_rng((seed, corruption, m)).standard_normal((B, n_features))
        for m in range(first, last + 1)
    ]
    noise = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    return std * noise[start - first * B : stop - first * B]


def hessian_penalty_and_grad(
    theta,
    X,
    *,
    n_components,
    activation,
    tied,
    hessian_penalty,
    n_corruptions,
    corruption_std,
    seed,
    chunk_rows,
):
    """The CAE+H term (Rifai et al., ECML 2011) and its gradient.

    A stochastic estimate of the Hessian's norm: how much the encoder's
    Jacobian changes under small Gaussian corruptions ``eps_c`` of the
    input (see :func:`corruption_noise`)::

        P = hessian_penalty / (N C) * sum_c sum_i ||J(x_i) - J(x_i + eps_ic)||_F^2
          = hessian_penalty / (N C) * sum_c sum_i sum_j (F1_ij - G_ij)^2 s_j

    with ``F1 = f'(A)``, ``G = f'(A + eps_c W^T)`` and ``s_j = ||W_j||^2``
    (both Jacobians are ``diag(.) W``, so their difference is exact in
    closed form, as the contractive penalty). Only ``W`` and ``b`` receive
    gradient: through ``A`` (via ``f''(A)``), through ``A + eps_c W^T``
    (via ``f''`` there; it depends on ``W`` through ``X`` and ``eps_c``)
    and through ``s``. With ``"identity"`` ``f'`` is constant and the term
    is exactly 0.

    Parameters
    ----------
    theta : ndarray of shape (n_params,)
        Flat parameters (see :func:`unpack`).
    X : ndarray or sparse matrix of shape (N, n)
        Training data; its dtype is the dtype of all arithmetic. Sparse
        rows are densified one chunk at a time.
    seed : int
        Seeds the corruptions (see :func:`corruption_noise`).
    chunk_rows : int
        Rows processed at once, rounded to a multiple of
        :data:`NOISE_BLOCK_ROWS` (at least one block); the temporaries are
        ``O(chunk_rows * (n + k))``, one corruption at a time.

    Returns
    -------
    P : float
    grad : ndarray of shape (n_params,), float64
    """
    N, n = X.shape
    k = n_components
    dtype = X.dtype
    W, b, _, _ = unpack(np.asarray(theta, dtype=dtype), n, k, tied)
    f, df, d2f = ACTIVATIONS[activation]
    curved = activation not in ZERO_CURVATURE

    s = np.einsum("ij,ij->i", W, W)
    grad = np.zeros(n_params(n, k, tied), dtype=dtype)
    gW, gb, _, _ = unpack(grad, n, k, tied)
    sum_sq_diff = np.zeros(k, dtype=dtype)  # sum_c sum_i (F1_ij - G_ij)^2

    B = NOISE_BLOCK_ROWS
    rows = max(B, chunk_rows // B * B)
    for start in range(0, N, rows):
        stop = min(start + rows, N)
        Xc = _dense(X[start:stop])
        A = Xc @ W.T
        A += b
        H = f(A)
        F1 = df(A, H)
        F2 = d2f(A, H, F1)
        dA = np.zeros_like(A)  # d/dA summed over corruptions (A~ = A + eps W^T)
        for corruption in range(n_corruptions):
            eps = corruption_noise(seed, corruption, start, stop, n, corruption_std)
            eps = eps.astype(dtype, copy=False)
            A_eps = eps @ W.T
            A_eps += A
            H_eps = f(A_eps)
            G = df(A_eps, H_eps)
            diff = F1 - G
            sum_sq_diff += np.einsum("ij,ij->j", diff, diff)
            if curved:
                diff *= 2.0 * s
                dA_eps = diff * d2f(A_eps, H_eps, G)  # minus d/dA~
                dA += diff * F2
                dA -= dA_eps
                gW -= dA_eps.T @ eps
        if curved:
            gW += dA.T @ Xc
            gb += dA.sum(axis=0)

    scale = hessian_penalty / (N * n_corruptions)
    P = scale * float(sum_sq_diff @ s)
    gW += 2.0 * sum_sq_diff[:, None] * W
    grad *= scale
    return P, grad.astype(np.float64, copy=False)


def tangents(X, W, b, activation, n_directions, chunk_rows):
    """Leading right-singular vectors of each ``J(x_i) = diag(f'(a_i)) W``.

    The directions of input space the codes are most sensitive to: the
    tangent plane of the learned manifold at ``x_i``. Each direction's
    largest-magnitude entry is made positive, so the result is
    deterministic.

    Returns
    -------
    T : ndarray of shape (N, n_directions, n)
        Unit tangent directions, by decreasing singular value.
    S : ndarray of shape (N, n_directions)
        The singular values.
    """
    N, n = X.shape
    T = np.empty((N, n_directions, n), dtype=W.dtype)
    S = np.empty((N, n_directions), dtype=W.dtype)
    for start in range(0, N, chunk_rows):
        stop = min(start + chunk_rows, N)
        J = jacobian(_dense(X[start:stop]), W, b, activation)
        _, sv, Vt = np.linalg.svd(J, full_matrices=False)
        T[start:stop] = Vt[:, :n_directions]
        S[start:stop] = sv[:, :n_directions]
    peak = np.take_along_axis(T, np.abs(T).argmax(axis=2)[:, :, None], axis=2)
    T *= np.where(peak < 0, -1.0, 1.0).astype(T.dtype)
    return T, S
