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


def initial_theta(n_features, n_components, activation, tied, random_state):
    """The starting parameters, flat: Glorot-uniform weights (with
    scikit-learn MLP's factor 2 for the logistic, 6 otherwise) drawn from
    ``random_state`` (the encoder's, then the untied decoder's), zero biases."""
    k = n_components
    factor = 2.0 if activation == "logistic" else 6.0
    bound = np.sqrt(factor / (n_features + k))
    W = random_state.uniform(-bound, bound, (k, n_features))
    D = W if tied else random_state.uniform(-bound, bound, (k, n_features))
    return pack(W, np.zeros(k), D, np.zeros(n_features), tied)


def _dense(X):
    return X.toarray() if sp.issparse(X) else X


# ------------------------------------------------------------- forward pass
def preactivations(X, W, b, out=None):
    """``A = X W^T + b``, shape ``(N, k)``, into ``out`` when given (``X``
    dense); without ``out``, ``X`` may be sparse. ``b`` may be a matrix:
    the CAE+H term adds ``A`` to its corruptions' ``eps W^T``."""
    A = np.asarray(X @ W.T) if out is None else np.matmul(X, W.T, out=out)
    A += b
    return A


def decoder_preactivations(H, D, c, out=None):
    """``Z = H D + c``, shape ``(N, n)``, into ``out`` when given."""
    Z = H @ D if out is None else np.matmul(H, D, out=out)
    Z += c
    return Z


def forward(X, W, b, D, c, f, A=None, H=None, Z=None):
    """The forward pass ``(A, H, Z)``: ``A = X W^T + b``, ``H = f(A)``,
    ``Z = H D + c``, each into the given buffer (else allocated)."""
    A = preactivations(X, W, b, out=A)
    H = f(A, out=H)
    return A, H, decoder_preactivations(H, D, c, out=Z)


def cross_entropy_terms(X, Z, out=None):
    """The cross-entropy of ``X`` and ``sigmoid(Z)`` element by element,
    ``softplus(Z) - X Z``, computed stably, into ``out`` when given (it
    may be ``Z``)."""
    XZ = np.multiply(X, Z)
    out = np.logaddexp(0.0, Z, out=out)
    out -= XZ
    return out


def encode(X, W, b, activation):
    """Codes ``H = f(X W^T + b)``, shape ``(N, k)``; ``X`` may be sparse."""
    return ACTIVATIONS[activation][0](preactivations(X, W, b))


def decode(H, D, c, loss):
    """Reconstruction ``R`` of codes ``H``, shape ``(N, n)``."""
    Z = decoder_preactivations(H, D, c)
    if loss == "cross_entropy":
        return expit(Z)
    return Z


def reconstruction_loss(X, Z, loss):
    """Per-sample reconstruction loss from decoder pre-activations ``Z``.

    ``X`` is dense, shape ``(N, n)``; returns shape ``(N,)``, summed in
    ``X``'s dtype row by row (the sums of ``score`` are float64 over the
    chunk, the objective's a dot product: each summation order is kept,
    since merging them would change the last bits of every score).
    """
    if loss == "cross_entropy":
        return np.sum(cross_entropy_terms(X, Z), axis=1)
    E = Z - X
    return 0.5 * np.einsum("ij,ij->i", E, E)


def jacobian(X, W, b, activation):
    """Per-sample encoder Jacobians ``diag(f'(a_i)) W``, shape ``(N, k, n)``."""
    f, df, _ = ACTIVATIONS[activation]
    A = preactivations(X, W, b)
    F1 = df(A, f(A))
    return F1[:, :, None] * W[None, :, :]


def clip_unit_interval(X):
    """``X`` clipped to [0, 1] for the cross-entropy: ``X`` itself if it is
    inside, else a clipped copy (``X`` may be sparse)."""
    values = X.data if sp.issparse(X) else X
    if values.size == 0 or (values.min() >= 0 and values.max() <= 1):
        return X
    if not sp.issparse(X):
        return np.clip(X, 0, 1)
    X = X.copy()
    np.clip(X.data, 0, 1, out=X.data)
    return X


def _row_chunks(X, chunk_rows, loss):
    """``(rows, chunk)`` pairs over ``X``: ``rows`` a slice, ``chunk`` its
    dense rows (densified when ``X`` is sparse; for the cross-entropy,
    clipped to [0, 1])."""
    for start in range(0, X.shape[0], chunk_rows):
        rows = slice(start, start + chunk_rows)
        chunk = _dense(X[rows])
        yield rows, clip_unit_interval(chunk) if loss == "cross_entropy" else chunk


def reconstruction_loss_sum(X, W, b, D, c, activation, loss, chunk_rows):
    """``sum_i rec_i``, float64, computed over row chunks (``X`` may be sparse;
    for the cross-entropy, clipped to [0, 1]); its temporaries per row are
    ``row_bytes("reconstruction", ...)``."""
    total = 0.0
    for _, chunk in _row_chunks(X, chunk_rows, loss):
        total += _reconstruction_sum(chunk, W, b, D, c, activation, loss)
    return total


def reconstruction_losses(X, W, b, D, c, activation, loss, chunk_rows):
    """Per-sample ``rec_i``, shape ``(N,)`` in ``X``'s dtype, computed over
    row chunks as :func:`reconstruction_loss_sum`."""
    losses = np.empty(X.shape[0], dtype=X.dtype)
    for rows, chunk in _row_chunks(X, chunk_rows, loss):
        Z = forward(chunk, W, b, D, c, ACTIVATIONS[activation][0])[2]
        losses[rows] = reconstruction_loss(chunk, Z, loss)
    return losses


def _reconstruction_sum(X, W, b, D, c, activation, loss):
    """``sum_i rec_i`` over the dense rows ``X``, as a float64 sum."""
    Z = forward(X, W, b, D, c, ACTIVATIONS[activation][0])[2]
    if loss == "cross_entropy":
        Z = cross_entropy_terms(X, Z, out=Z)
    else:
        Z -= X
        Z *= Z
        Z *= 0.5
    return float(np.sum(Z, dtype=np.float64))


def column_moments(X, chunk_rows):
    """``(rows, mean, m2)`` of ``X``'s columns in float64 (``m2`` the sums of
    squared deviations from the mean), over row chunks (``X`` may be
    sparse); blocks' moments add up with :func:`merge_moments`."""
    moments = (0, np.zeros(X.shape[1]), np.zeros(X.shape[1]))
    with np.errstate(over="ignore", invalid="ignore"):  # values near float's limit: inf
        for _, chunk in _row_chunks(X, chunk_rows, loss=None):
            mean = chunk.mean(axis=0, dtype=np.float64)
            deviations = np.subtract(chunk, mean, dtype=np.float64)
            deviations *= deviations
            moments = merge_moments(moments, (chunk.shape[0], mean, deviations.sum(axis=0)))
    return moments


def merge_moments(a, b):
    """The moments of two sets of rows together (Chan, Golub and LeVeque)."""
    (rows_a, mean_a, m2_a), (rows_b, mean_b, m2_b) = a, b
    rows = rows_a + rows_b
    if rows_b == 0:
        return a
    delta = mean_b - mean_a
    mean = mean_a + delta * (rows_b / rows)
    with np.errstate(over="ignore", invalid="ignore"):
        return rows, mean, m2_a + m2_b + delta**2 * (rows_a * rows_b / rows)


def half_total_variance(moments):
    """Half the sum of the columns' variances, from their :func:`column_moments`."""
    rows, _, m2 = moments
    return 0.5 * float(m2.sum()) / max(rows, 1)


def mean_reconstruction_loss(X, *args):
    """``(1/N) sum_i rec_i``: :func:`reconstruction_loss_sum` over ``N``."""
    return reconstruction_loss_sum(X, *args) / X.shape[0]


class OneThread:
    """The workspace of :func:`loss_and_grad_sums` when none is given (a
    dask block's task, a single evaluation): one thread, fresh buffers.
    A fit passes its own, with threads and reused buffers, from the
    in-process backend."""

    n_threads = 1

    def buffer(self, key, shape, dtype):
        return np.empty(shape, dtype=dtype)

    def map(self, fun, n_tasks):
        return [fun(task) for task in range(n_tasks)]

    run = map

    def shares(self, size, unit=1):
        return [0, size]


def loss_and_grad(theta, X, *, alpha, **settings):
    """Objective ``J`` and its gradient with respect to ``theta``.

    :func:`loss_and_grad_sums` over all the rows of ``X``, then
    :func:`from_row_sums`.

    Parameters
    ----------
    theta : ndarray of shape (n_params,)
        Flat parameters (see :func:`unpack`), any float dtype.
    X : ndarray or sparse matrix of shape (N, n)
        Training data.
    alpha : float
        L2 penalty on the weights.
    **settings
        The keyword arguments of :func:`loss_and_grad_sums`.

    Returns
    -------
    J : float
    grad : ndarray of shape (n_params,), float64, or None
        None with ``gradient=False``.
    """
    sums = loss_and_grad_sums(theta, X, **settings)
    n_samples, n_features = X.shape
    return from_row_sums(
        sums, theta, n_samples, n_features, settings["n_components"], settings["tied"], alpha
    )


def from_row_sums(sums, theta, n_samples, n_features, n_components, tied, alpha):
    """``(J, grad)`` from the row sums ``(J_sum, grad_sum)`` of
    :func:`loss_and_grad_sums` over all ``n_samples`` rows: adds the L2
    term ``0.5 * alpha * (||W||^2 [+ ||D||^2 if untied])`` and divides by
    ``n_samples``. The gradient sum (if any) becomes the gradient, in place."""
    J, grad = sums
    if alpha:
        n_weights = n_features * n_components * (1 if tied else 2)  # W and D lead theta
        weights = np.asarray(theta[:n_weights], dtype=np.float64)
        J += 0.5 * alpha * float(weights @ weights)
    if grad is not None:
        grad /= n_samples
        if alpha:
            grad[:n_weights] += (alpha / n_samples) * weights
    return J / n_samples, grad


def cross_entropy_residual(X, Z, t, u, v, nonnegative):
    """The cross-entropy's ``sum(softplus(Z) - X * Z)`` (float64), with
    ``Z`` overwritten by the residual ``E = sigmoid(Z) - X``.

    The same values as :func:`reconstruction_loss` and the logistic, from
    one exponential and one logarithm per element instead of three
    transcendental functions: with ``t = exp(-|z|)`` and
    ``u = 1 / (1 + t) = sigmoid(|z|)``, ``softplus(z) = max(z, 0) - log(u)``
    and ``sigmoid(z)`` is ``u`` where ``z >= 0`` and ``t * u`` elsewhere
    (``t <= 1`` never overflows). ``t, u, v`` are float buffers shaped like
    ``Z``, ``nonnegative`` a bool one. The training loop's form, since it
    also gives the residual; it agrees with :func:`cross_entropy_terms`
    (what ``score`` sums) to an ulp, not bitwise, so each keeps its own.
    """
    np.abs(Z, out=t)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.add(t, 1.0, out=u)
    np.reciprocal(u, out=u)
    np.log(u, out=v)  # -log1p(t), to an ulp of 1 (u is in [0.5, 1])
    np.greater_equal(Z, 0.0, out=nonnegative)
    np.maximum(t, nonnegative, out=t)  # 1 where z >= 0, else t
    t *= u  # sigmoid(z)
    np.multiply(X, Z, out=u)
    v += u
    np.maximum(Z, 0.0, out=u)
    u -= v  # softplus(z) - x z
    total = float(np.sum(u, dtype=np.float64))
    np.subtract(t, X, out=Z)
    return total


def loss_and_grad_sums(
    theta,
    X,
    *,
    n_components,
    activation,
    loss,
    tied,
    contraction,
    chunk_rows,
    workspace=None,
    gradient=True,
    grad_dtype=np.float64,
):
    """Sums over the rows of ``X`` of the per-sample objective
    ``rec_i + contraction * pen_i`` and of its gradient.

    The data part of the objective, additive over rows: the sums of any
    partition of the rows add up to the sums of all of them, so blocks of
    rows can be summed where they live (a block of no rows adds zeros).
    :func:`from_row_sums` turns the total into ``(J, grad)``.

    Parameters
    ----------
    theta : ndarray of shape (n_params,)
        Flat parameters (see :func:`unpack`), any float dtype.
    X : ndarray or sparse matrix of shape (N, n)
        Rows of training data; its dtype (float32 or float64) is the dtype
        of all arithmetic, except that the loss and the bias and penalty
        sums across chunks, and all sums across threads, are float64 (the
        weight gradients are summed over a thread's chunks in the data's
        dtype, the gradient's across threads in ``grad_dtype``). Sparse rows
        are densified one chunk at a time.
    chunk_rows : int
        Rows processed at once; the temporaries are
        ``row_bytes("loss_and_grad", ...)`` per row and thread.
    workspace : Workspace, default=None
        Buffers and threads to reuse across calls (``buffer(key, shape,
        dtype)``, ``map(fun, n_tasks)`` and ``run`` (work without BLAS),
        ``shares(size, unit)``, ``n_threads``: see
        ``_backends.inprocess.Workspace``); None uses fresh buffers and one
        thread (:class:`OneThread`).
    gradient : bool, default=True
        False: the value alone (the same ``J_sum``, bitwise), from the
        forward pass: two of the five matrix products.
    grad_dtype : dtype, default=np.float64
        The gradient's: the threads' sums are added up in it. An Adam
        minibatch asks for its parameters' (float32 for float32 rows), so
        that its step does not cast; L-BFGS for float64.

    Returns
    -------
    J_sum : float
    grad_sum : ndarray of shape (n_params,), of ``grad_dtype``, or None
    """
    N, n = X.shape
    k = n_components
    dtype = X.dtype
    ws = OneThread() if workspace is None else workspace
    W, b, D, c = unpack(np.asarray(theta, dtype=dtype), n, k, tied)
    f, df, d2f = ACTIVATIONS[activation]
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
        entropy_buffers = ()
        if loss == "cross_entropy":
            entropy_buffers = [buffer(name, (rows, n)) for name in ("t", "u", "v")]
            entropy_buffers.append(ws.buffer((task, "z >= 0"), (rows, n), np.bool_))
        ones = np.ones(rows, dtype=dtype)
        product = buffer("product", (k, n))
        gW = buffer("gW", (k, n))
        gD = gW if tied else buffer("gD", (k, n))
        first_chunk = True  # its products are written into gD and gW, not added
        gb, gc, sum_F1sq = np.zeros(k), np.zeros(n), np.zeros(k)
        rec = 0.0
        first, last = task * n_chunks // n_tasks, (task + 1) * n_chunks // n_tasks
        for start in range(first * rows, min(last * rows, N), rows):
            Xc = X[start : start + rows]
            m = Xc.shape[0]
            if dense is not None:
                Xc = Xc.toarray(out=dense[:m])
            a, h, f1, da, E = A[:m], H[:m], F1[:m], dA[:m], Z[:m]
            forward(Xc, W, b, D, c, f, a, h, E)  # E holds Z
            if loss == "cross_entropy":
                rec += cross_entropy_residual(Xc, E, *(buf[:m] for buf in entropy_buffers))
            else:
                E -= Xc
                rec += 0.5 * float(np.vdot(E, E))
            df(a, h, out=f1)
            sum_F1sq += np.einsum("ij,ij->j", f1, f1)
            if not gradient:
                continue
            np.matmul(E, D.T, out=da)  # dH
            if curved:  # dA = F1 (dH + 2 contraction F2 s)
                f2 = d2f(a, h, f1, out=F2[:m])
                f2 *= penalty_scale
                da += f2
            da *= f1
            # Every product is numpy's: scipy's gemm could accumulate in place
            # (beta=1), but its OpenBLAS ran two threads' calls one after
            # the other.
            _add_product(gD, h.T, E, product, first_chunk)  # H^T E
            _add_product(gW, da.T, Xc, product, first_chunk and not tied)  # dA^T X
            first_chunk = False
            gb += ones[:m] @ da  # column sums: one BLAS pass, no temporary
            gc += ones[:m] @ E
        if first_chunk:  # no product written (the value alone skips them): zeros
            gW.fill(0.0)
            gD.fill(0.0)
        return rec, gW, gD, gb, gc, sum_F1sq

    parts = ws.map(work, n_tasks)
    rec = sum(part[0] for part in parts)
    sum_F1sq = _sum_into(np.zeros(k), [part[5] for part in parts])
    J = rec + contraction * float(sum_F1sq @ s.astype(np.float64))
    if not gradient:
        return J, None
    grad = np.empty(n_params(n, k, tied), dtype=grad_dtype)
    gW, gb, gD, gc = unpack(grad, n, k, tied)  # views: the sums land in grad
    for total, index in ((gb, 3), (gc, 4)):
        _sum_into(total, [part[index] for part in parts])
    scale = ((2.0 * contraction) * sum_F1sq).astype(grad_dtype)[:, None]
    penalty = ws.buffer("penalty's gradient", (k, n), grad_dtype)

    def weights(task):
        """The weights' gradient, rows ``units[task]`` of it: the threads'
        sums and the penalty's term (tied: gW holds gD's share)."""
        rows = slice(units[task], units[task + 1])
        _sum_into(gW[rows], [part[1][rows] for part in parts])
        if not tied:
            _sum_into(gD[rows], [part[2][rows] for part in parts])
        gW[rows] += np.multiply(W[rows], scale[rows], out=penalty[rows])

    # Element by element, so shared between threads it is bitwise the same.
    units = ws.shares(k, unit=n)
    ws.run(weights, len(units) - 1)
    return J, grad


def _add_product(total, a, b, product, first):
    """``total = a @ b`` on the ``first`` chunk, else ``total += a @ b``
    (through the buffer ``product``): bitwise what adding to zeros gives."""
    if first:
        np.matmul(a, b, out=total)
    else:
        total += np.matmul(a, b, out=product)


def _sum_into(total, arrays):
    """``total = arrays[0] + arrays[1] + ...`` in ``total``'s dtype, added
    in that order (zeros for none): bitwise the sums of adding them to
    zeros one after the other."""
    if not arrays:
        total.fill(0.0)
        return total
    if len(arrays) == 1:
        total[...] = arrays[0]
        return total
    np.add(arrays[0], arrays[1], out=total, dtype=total.dtype)
    for array in arrays[2:]:
        total += array
    return total


# ------------------------------------------------- higher-order contraction
#: Rows per block of corruption noise. The noise of block ``m`` for
#: corruption ``c`` is drawn from ``default_rng((seed, c, m))``, so it is the
#: same at every evaluation (L-BFGS sees a deterministic objective) and does
#: not depend on how rows are chunked, and it is never stored whole.
NOISE_BLOCK_ROWS = 256


def corruption_noise(seed, corruption, start, stop, n_features, std, out=None):
    """Corruption ``eps_c`` of rows ``start:stop``, shape ``(stop - start, n)``.

    Row ``i`` of corruption ``c`` is ``std`` times standard normal noise
    that depends only on ``(seed, c, i)``: block ``m`` of
    :data:`NOISE_BLOCK_ROWS` rows is the stream of
    ``default_rng((seed, c, m))``, float64. The rows are drawn straight into
    ``out`` (allocated if None), so no other array is allocated; rows of a
    block before ``start`` are drawn into ``out`` and overwritten.
    """
    if out is None:
        out = np.empty((stop - start, n_features))
    row = start
    while row < stop:
        block, first = divmod(row, NOISE_BLOCK_ROWS)
        last = min(stop - block * NOISE_BLOCK_ROWS, NOISE_BLOCK_ROWS)
        rng = np.random.default_rng((seed, corruption, block))
        piece = out[row - start : row - start + last - first]
        for skipped in range(0, first, len(piece)):  # the block's rows before
            rng.standard_normal(out=piece[: first - skipped])
        rng.standard_normal(out=piece)  # rows first:last of the block
        row += last - first
    out *= std
    return out


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
        Rows processed at once, rounded down to a multiple of
        :data:`NOISE_BLOCK_ROWS` when it is at least one block; the
        temporaries are ``row_bytes("hessian_penalty", ...)`` per row, one
        corruption at a time.

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
    product = np.empty((k, n), dtype=dtype)

    # Whole noise blocks per chunk when they fit (each block drawn once).
    B = NOISE_BLOCK_ROWS
    rows = min(N, chunk_rows // B * B if chunk_rows >= B else chunk_rows)
    # The only temporaries proportional to the rows: see row_bytes.
    n_buffers = 9 if curved else 6
    buffers = [np.empty((rows, k), dtype=dtype) for _ in range(n_buffers)]
    noise = np.empty((rows, n))
    eps_buffer = noise if dtype == noise.dtype else np.empty((rows, n), dtype=dtype)
    dense = np.empty((rows, n), dtype=dtype) if sp.issparse(X) else None
    for start in range(0, N, rows):
        stop = min(start + rows, N)
        m = stop - start
        Xc = X[start:stop] if dense is None else X[start:stop].toarray(out=dense[:m])
        # A: pre-activations; H, then H~ at the corrupted input; G = f'(A~);
        # T = (F1 - G) 2 s f''(A~), minus the gradient with respect to A~.
        A, H, F1, A_eps, G, diff, *curvature = (x[:m] for x in buffers)
        preactivations(Xc, W, b, out=A)
        f(A, out=H)
        df(A, H, out=F1)
        if curved:
            F2, dA, T = curvature
            d2f(A, H, F1, out=F2)
            dA.fill(0.0)  # d/dA summed over corruptions (A~ = A + eps W^T)
        for corruption in range(n_corruptions):
            eps = corruption_noise(seed, corruption, start, stop, n, corruption_std, noise[:m])
            if eps_buffer is not noise:  # the noise cast to float32
                eps = eps_buffer[:m]
                eps[...] = noise[:m]
            preactivations(eps, W, A, out=A_eps)  # A + eps W^T
            f(A_eps, out=H)
            df(A_eps, H, out=G)
            np.subtract(F1, G, out=diff)
            sum_sq_diff += np.einsum("ij,ij->j", diff, diff)
            if curved:
                diff *= 2.0 * s
                d2f(A_eps, H, G, out=T)
                T *= diff
                dA += np.multiply(diff, F2, out=G)
                dA -= T
                gW -= np.matmul(T.T, eps, out=product)
        if curved:
            gW += np.matmul(dA.T, Xc, out=product)
            gb += dA.sum(axis=0)

    scale = hessian_penalty / (N * n_corruptions)
    P = scale * float(sum_sq_diff @ s)
    gW += 2.0 * sum_sq_diff[:, None] * W
    grad *= scale
    return P, grad.astype(np.float64, copy=False)


#: The most rows a chunk of :func:`loss_and_grad_sums` holds, whatever the
#: memory allows: its buffers stay cache-sized.
MAX_CHUNK_ROWS = 2048


def row_bytes(kernel, X, n_components, *, loss="squared_error", activation="logistic"):
    """Bytes of temporaries per row of ``X`` that ``kernel`` allocates
    (one thread's share), the densified rows of a sparse ``X`` included:
    what a chunk budget divides the working memory by.

    - ``"loss_and_grad"`` (:func:`loss_and_grad_sums`): ``A, H, F1, dA, F2``
      (``k`` values each), ``Z`` (``n``), the cross-entropy's three buffers
      (``n`` each) and its mask (``n`` bools), and one value of ones.
    - ``"reconstruction"`` (:func:`reconstruction_loss_sum`,
      :func:`reconstruction_losses`): ``A`` and ``H`` (``k`` each) and ``Z``
      (``n``), then the cross-entropy's clipped row and ``X Z`` (``n`` each).
    - ``"hessian_penalty"`` (:func:`hessian_penalty_and_grad`): nine arrays
      of ``k`` values (six without curvature), the float64 noise and its
      cast to ``X``'s dtype.
    - ``"moments"`` (:func:`column_moments`): the float64 deviations from
      the mean (``n`` values).
    - ``"tangents"`` (:func:`tangents`): three arrays of ``k`` values and
      the Jacobian (``k n``), then its SVD factors (``p (k + n + 1)``,
      ``p = min(k, n)``), which numpy's ``linalg`` computes in float64: for
      float32 rows, from a float64 copy of the Jacobian.
    """
    k, n, itemsize = n_components, X.shape[1], X.dtype.itemsize
    entropy = loss == "cross_entropy"
    if kernel == "loss_and_grad":
        per_row = itemsize * (5 * k + (1 + 3 * entropy) * n + 1) + entropy * n
    elif kernel == "reconstruction":
        per_row = itemsize * (2 * k + (3 if entropy else 1) * n)
    elif kernel == "hessian_penalty":
        n_buffers = 6 if activation in ZERO_CURVATURE else 9
        cast = 0 if itemsize == 8 else n * itemsize
        per_row = itemsize * n_buffers * k + 8 * n + cast
    elif kernel == "moments":
        per_row = 8 * n
    elif kernel == "tangents":
        p = min(k, n)
        cast = 0 if itemsize == 8 else 8 * k * n
        per_row = itemsize * (k * n + 3 * k) + cast + 8 * p * (k + n + 1)
    else:
        raise ValueError(f"no kernel named {kernel!r}")
    return per_row + densified_row_bytes(X)


def densified_row_bytes(X):
    """Bytes per row of a densified chunk of ``X``: none for a dense ``X``
    (a chunk is a view); for a sparse ``X``, the chunk's slice (at most
    ``n`` values and indices per row, and a row pointer) and the dense rows.
    """
    if not sp.issparse(X):
        return 0
    n = X.shape[1]
    return n * (2 * X.dtype.itemsize + X.indices.itemsize) + X.indptr.itemsize


def tangents(X, W, b, activation, n_directions, chunk_rows):
    """Leading right-singular vectors of each ``J(x_i) = diag(f'(a_i)) W``.

    The directions of input space the codes are most sensitive to: the
    tangent plane of the learned manifold at ``x_i``. Each direction's
    largest-magnitude entry is made positive, so the result is
    deterministic. Its temporaries per row of a chunk are
    ``row_bytes("tangents", ...)``.

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
        Xc = _dense(X[start:stop])
        T[start:stop], S[start:stop] = _chunk_tangents(Xc, W, b, activation, n_directions)
    return T, S


def _chunk_tangents(X, W, b, activation, n_directions):
    """:func:`tangents` of the dense rows ``X``."""
    J = jacobian(X, W, b, activation)
    singular_values, Vt = np.linalg.svd(J, full_matrices=False)[1:]
    del J
    T = Vt[:, :n_directions]
    peak = np.take_along_axis(T, np.abs(T).argmax(axis=2)[:, :, None], axis=2)
    np.negative(T, out=T, where=peak < 0)
    return T, singular_values[:, :n_directions]
