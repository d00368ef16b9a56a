"""Rows in an Array API namespace on their device (scikit-learn's
``array_api_dispatch`` on, ``X`` a PyTorch tensor, a CuPy array or an
``array_api_strict`` array): the functions of every backend (see
``_backends.FUNCTIONS``), and the objective written against the namespace
``xp``.

The formulas are ``shared/OBJECTIVE.md``'s, as the numpy kernels of
``_objective`` compute them, written again here plainly: the standard has
no ``out=`` buffers and a device parallelises its own kernels, so there are
no threads, no workspace and no row chunks (the rows are on the device
whole). ``tests/test_array_api.py`` pins the two together (1e-12 relative
in float64). Everything runs in the rows' dtype on their device; the
objective's value and the penalty's sums are float64 where the device has
it.

Both optimisers step the parameters on the device (:func:`vector`): Adam,
and the L-BFGS written against the namespace (``_lbfgs``), so the
objectives take and return device arrays.
"""

import contextlib
import importlib

import numpy as np
import sklearn
from sklearn.externals.array_api_compat import array_namespace
from sklearn.model_selection import train_test_split
from sklearn.utils._array_api import (
    _convert_to_numpy,
    _estimator_with_converted_arrays,
    _is_xp_namespace,
    _max_precision_float_dtype,
    check_same_namespace,
    get_namespace_and_device,
)
from sklearn.utils._array_api import device as device_of
from sklearn.utils.validation import check_array, validate_data

from .. import _objective
from .._activations import ZERO_CURVATURE
from . import PLACE


# ---------------------------------------------------------------- activations
# Overflow gives inf, which the solvers refuse with their own error; the
# functions that evaluate these silence numpy's warning (from a numpy-backed
# namespace such as array_api_strict), as the numpy kernels do.
def _sigmoid(a, xp):
    # the numpy kernels' logistic: exp(-a) overflows to inf only where 0 is right
    return 1.0 / (1.0 + xp.exp(-a))


def _softplus(a, xp):
    return xp.logaddexp(a, xp.zeros((), dtype=a.dtype, device=a.device))


def _logistic_and_d1(a, xp):
    h = _sigmoid(a, xp)
    return h, h * (1.0 - h)


def _tanh_and_d1(a, xp):
    h = xp.tanh(a)
    return h, 1.0 - h * h


def _zeros(a, h, d1, xp):
    return xp.zeros_like(a)


#: activation -> (f(a, xp), (f, f')(a, xp), f''(a, h, f', xp)): the table of
#: ``_activations`` against the namespace, each elementwise step one kernel
#: of the namespace (``logaddexp`` for the softplus).
ACTIVATIONS = {
    "logistic": (_sigmoid, _logistic_and_d1, lambda a, h, d1, xp: d1 * (1.0 - 2.0 * h)),
    "tanh": (lambda a, xp: xp.tanh(a), _tanh_and_d1, lambda a, h, d1, xp: -2.0 * h * d1),
    "softplus": (
        _softplus,
        lambda a, xp: (_softplus(a, xp), _sigmoid(a, xp)),
        lambda a, h, d1, xp: d1 * (1.0 - d1),
    ),
    "relu": (
        lambda a, xp: xp.clip(a, min=0.0),
        lambda a, xp: (xp.clip(a, min=0.0), xp.astype(a > 0, a.dtype)),
        _zeros,
    ),
    "identity": (lambda a, xp: a, lambda a, xp: (a, xp.ones_like(a)), _zeros),
}


def _cross_entropy_terms(X, Z, xp):
    """The cross-entropy of ``X`` and ``sigmoid(Z)`` element by element,
    ``softplus(Z) - X Z``, computed stably from ``Z``."""
    return _softplus(Z, xp) - X * Z


# ------------------------------------------------------------------ the rows
def _namespace(X):
    xp, _, device = get_namespace_and_device(X)
    return xp, device


def _wide(xp, device):
    """The dtype of the objective's sums: float64 where the device has it."""
    return _max_precision_float_dtype(xp, device)


def check_settings(settings):
    """Every setting runs on a device."""


def validate(estimator, X, reset):
    """``X`` validated by scikit-learn in its namespace, on its device."""
    xp, _ = _namespace(X)
    return validate_data(estimator, X, dtype=[xp.float64, xp.float32], reset=reset)


def validate_codes(H):
    """Codes (inverse_transform's input) validated by scikit-learn."""
    xp, _ = _namespace(H)
    return check_array(H, dtype=[xp.float64, xp.float32])


def extremes(X):
    """``(min, max)`` of ``X`` as Python floats, None if it is empty."""
    xp, _ = _namespace(X)
    if X.shape[0] * X.shape[1] == 0:
        return None
    return float(xp.min(X)), float(xp.max(X))


def hold(X):
    """Rows on a device are held already."""
    return X


def split(X, test_size, random_state):
    """``(X_train, X_val)``: scikit-learn's ``train_test_split`` (the rows
    numpy's split would take)."""
    return train_test_split(X, test_size=test_size, random_state=random_state)


def workspace(X, minibatch=False):
    """No workspace: the device runs its own kernels in parallel."""
    return contextlib.nullcontext()


def cast(A, dtype):
    """``A`` in ``dtype`` (itself if it is already)."""
    xp, _ = _namespace(A)
    return A if A.dtype == dtype else xp.astype(A, dtype)


def to_numpy(A):
    """``A`` as a numpy array on the host."""
    xp, _ = _namespace(A)
    return _convert_to_numpy(A, xp)


def vector(theta, X):
    """The flat parameters ``theta`` where the rows ``X`` are: in their
    namespace, on their device, in their dtype (Adam steps there)."""
    xp, device = _namespace(X)
    return xp.asarray(theta, dtype=X.dtype, device=device)


def parameters(theta, X, settings):
    """``(W, b, D, c)`` of the flat ``theta`` (host or device) in ``X``'s
    namespace, device and dtype."""
    xp, _ = _namespace(X)
    return _unpack(vector(theta, X), X.shape[1], settings.n_components, settings.tied, xp)


def _unpack(theta, n, k, tied, xp):
    """``_objective.unpack`` in ``xp``: the same layout."""
    W = xp.reshape(theta[: k * n], (k, n))
    pos = k * n
    D = W
    if not tied:
        D = xp.reshape(theta[pos : pos + k * n], (k, n))
        pos += k * n
    return W, theta[pos : pos + k], D, theta[pos + k : pos + k + n]


def _pack(W, b, D, c, tied, xp):
    """``_objective.pack`` in ``xp``, in their dtype."""
    parts = [xp.reshape(W, (-1,))] + ([] if tied else [xp.reshape(D, (-1,))]) + [b, c]
    return xp.concat(parts)


# ------------------------------------- the model's place: checks, persistence
def check_model_namespace(X, estimator, method):
    """scikit-learn's error unless ``X`` is of the namespace and device of the
    fitted ``estimator``'s arrays; with ``array_api_dispatch`` off, an error
    that says to switch it on or move the model to numpy."""
    if not sklearn.get_config()["array_api_dispatch"]:
        raise ValueError(
            f"This model was fitted on {type(estimator.components_).__name__} arrays with "
            f"array_api_dispatch on: call {method} inside "
            "sklearn.config_context(array_api_dispatch=True) with X of the same namespace "
            "and device, or move the model to numpy first (see the user guide, 'GPUs')."
        )
    check_same_namespace(X, estimator, attribute="components_", method=method)


def portable_state(state):
    """An estimator's ``state`` (its ``__dict__``) as pickle, joblib and skops
    store it: a model fitted on the rows of an Array API namespace other than
    numpy's has its arrays (Adam's moments included) as numpy arrays, and
    the namespace's module and the device's name (PyTorch's, such as
    ``"cuda:0"``; the default device for other namespaces) under
    :data:`PLACE`, for :func:`restored_state`. skops stores no tensors, and a
    numpy state is the same in every namespace's file."""
    W = state["components_"]
    xp, _ = _namespace_of(W)
    name = str(device_of(W)) if _is_xp_namespace(xp, "torch") else None
    portable = _estimator_with_converted_arrays(
        state, lambda a: a if isinstance(a, np.ndarray) else _convert_to_numpy(a, xp)
    )
    return dict(portable, **{PLACE: (xp.__name__, name)})


def restored_state(state):
    """The state :func:`portable_state` stored, its arrays back in their
    namespace on their device; an error that says what to do when that
    device is not on this machine."""
    state = dict(state)
    namespace, name = state.pop(PLACE)
    xp = importlib.import_module(namespace)
    try:
        return _estimator_with_converted_arrays(
            state, lambda a: xp.asarray(a, device=name) if isinstance(a, np.ndarray) else a
        )
    except (RuntimeError, ValueError, TypeError, AssertionError) as error:
        raise ValueError(
            f"This ContractiveAutoencoder was saved with its arrays on device {name!r} "
            f"({namespace}), which this machine cannot use ({error}). Load it where that "
            "device exists, or move the model to numpy before saving it (see the user "
            "guide, 'GPUs')."
        ) from error


def _namespace_of(A):
    """``_namespace`` whatever ``array_api_dispatch`` says (pickling runs outside it)."""
    return array_namespace(A), device_of(A)


# ------------------------------------------------------------------ objective
def _clipped(X, loss, xp):
    """For the cross-entropy, ``X`` clipped to [0, 1] (the estimator accepts
    rounding beyond it), as ``_objective.clip_unit_interval``: ``X`` itself
    when it is inside (no copy of the rows on the device)."""
    if loss != "cross_entropy":
        return X
    bounds = extremes(X)
    if bounds is None or (bounds[0] >= 0.0 and bounds[1] <= 1.0):
        return X
    return xp.clip(X, 0.0, 1.0)


@np.errstate(over="ignore", invalid="ignore")
def evaluate(theta, X, settings, gradient=True, noise=None):
    """``(J, grad)``: the objective of the rows ``X`` at the flat ``theta`` (in
    ``X``'s namespace, device and dtype), as ``_objective.loss_and_grad``
    (its ``alpha`` term divided by these rows), plus the CAE+H term of the
    corruptions ``noise`` (see :func:`corruptions`) when given; ``J`` a
    Python float, ``grad`` in ``theta``'s namespace and dtype, None without
    ``gradient``."""
    xp, device = _namespace(X)
    wide = _wide(xp, device)
    N, n = X.shape
    k, tied, contraction = settings.n_components, settings.tied, settings.contraction
    W, b, D, c = _unpack(theta, n, k, tied, xp)
    _, f_df, d2f = ACTIVATIONS[settings.activation]
    A = X @ W.T + b
    H, F1 = f_df(A, xp)
    Z = H @ D + c
    if settings.loss == "cross_entropy":
        rec = xp.sum(_cross_entropy_terms(X, Z, xp), dtype=wide)
        E = _sigmoid(Z, xp) - X
    else:
        E = Z - X
        rec = 0.5 * xp.sum(E * E, dtype=wide)
    s = xp.sum(W * W, axis=1)  # ||W_j||^2
    sum_F1sq = xp.sum(F1 * F1, axis=0, dtype=wide)
    J = rec + contraction * xp.sum(sum_F1sq * xp.astype(s, wide))
    weights = [W] if tied else [W, D]
    if settings.alpha:
        J += 0.5 * settings.alpha * sum(xp.sum(xp.astype(w, wide) ** 2) for w in weights)
    J = float(J) / N
    if noise is not None:
        J_h, grad_h = _hessian_term(X, W, s, (A, H, F1), settings, noise, xp, wide)
        J += J_h
    if not gradient:
        return J, None
    dA = E @ D.T
    if contraction != 0.0 and settings.activation not in ZERO_CURVATURE:
        dA = dA + (2.0 * contraction) * d2f(A, H, F1, xp) * s
    dA = dA * F1
    gD = H.T @ E
    gW = dA.T @ X + (2.0 * contraction) * xp.astype(sum_F1sq, X.dtype)[:, None] * W
    if tied:  # the two uses of W add up
        gW = gW + gD
    if settings.alpha:
        gW = gW + settings.alpha * W
        if not tied:
            gD = gD + settings.alpha * D
    grad = _pack(gW, xp.sum(dA, axis=0), gD, xp.sum(E, axis=0), tied, xp) / N
    return J, grad if noise is None else grad + grad_h


def corruptions(X, settings, random_state):
    """``(seed, noise)``: the CAE+H corruptions of the rows ``X`` (None, None
    without ``hessian_penalty``), ``seed`` drawn from ``random_state`` as
    the in-process backend draws it and ``noise`` one array per corruption,
    ``_objective.corruption_noise``'s (drawn on the host, float64), moved to
    ``X``'s device in its dtype once: ``n_corruptions`` times ``X``'s size
    there."""
    if settings.hessian_penalty == 0:
        return None, None
    xp, device = _namespace(X)
    seed = int(random_state.randint(np.iinfo(np.int32).max))
    N, n = X.shape
    noise = [
        xp.asarray(
            _objective.corruption_noise(seed, c, 0, N, n, settings.corruption_std),
            dtype=X.dtype,
            device=device,
        )
        for c in range(settings.n_corruptions)
    ]
    return seed, noise


def _hessian_term(X, W, s, forward, settings, noise, xp, wide):
    """The CAE+H term and its gradient, as ``_objective.hessian_penalty_and_grad``
    (whose docstring has the formulas): only ``W`` and ``b`` get gradient.
    ``s`` is ``||W_j||^2`` and ``forward`` the objective's ``(A, H, f'(A))``
    of the rows ``X``."""
    _, f_df, d2f = ACTIVATIONS[settings.activation]
    curved = settings.activation not in ZERO_CURVATURE
    A, H, F1 = forward
    F2 = d2f(A, H, F1, xp) if curved else None
    sum_sq_diff = xp.zeros_like(s)
    dA = xp.zeros_like(A)
    gW = xp.zeros_like(W)
    for eps in noise:
        A_eps = eps @ W.T + A
        H_eps, G = f_df(A_eps, xp)
        diff = F1 - G
        sum_sq_diff = sum_sq_diff + xp.sum(diff * diff, axis=0)
        if curved:
            diff = diff * (2.0 * s)
            T = d2f(A_eps, H_eps, G, xp) * diff
            dA = dA + diff * F2 - T
            gW = gW - T.T @ eps
    gb = xp.zeros_like(s)
    if curved:
        gW = gW + dA.T @ X
        gb = xp.sum(dA, axis=0)
    scale = settings.hessian_penalty / (X.shape[0] * len(noise))
    P = scale * float(xp.sum(xp.astype(sum_sq_diff, wide) * xp.astype(s, wide)))
    gW = (gW + 2.0 * sum_sq_diff[:, None] * W) * scale
    zeros = xp.zeros_like(W)  # D and c get none
    return P, _pack(gW, gb * scale, zeros, xp.zeros_like(X[0, :]), settings.tied, xp)


def full_objective(X, settings, workspace=None, random_state=None, gradient=True):
    """``(fun, seed)``: ``fun(theta) -> (J, grad)`` the objective of all the
    rows ``X`` (:func:`evaluate`), ``theta`` on the host or the device,
    ``grad`` on the device (None without ``gradient``): L-BFGS steps there;
    ``seed`` that of its CAE+H corruptions (see :func:`corruptions`), drawn
    once, or None."""
    xp, _ = _namespace(X)
    X = _clipped(X, settings.loss, xp)
    seed, noise = corruptions(X, settings, random_state)

    def fun(theta):
        return evaluate(vector(theta, X), X, settings, gradient, noise)

    return fun, seed


def minibatch_objective(X, settings, workspace, random_state, batch_size, shuffle):
    """``(fun, epoch)`` for Adam: ``epoch()`` yields one epoch's minibatches
    as ``(rows, n_rows)`` (the permutation drawn on the host, as numpy's
    rows would be, and moved to the device once per epoch), and ``fun(theta,
    rows)`` is the objective of those rows (:func:`evaluate`, with CAE+H
    corruptions of their own, as the in-process backend's)."""
    xp, device = _namespace(X)
    X = _clipped(X, settings.loss, xp)
    n_samples = X.shape[0]

    def epoch():
        order = None
        if shuffle:
            order = xp.asarray(random_state.permutation(n_samples), device=device)
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            yield (slice(start, stop) if order is None else order[start:stop]), stop - start

    def fun(theta, rows):
        batch = X[rows, :] if isinstance(rows, slice) else xp.take(X, rows, axis=0)
        return evaluate(theta, batch, settings, noise=corruptions(batch, settings, random_state)[1])

    return fun, epoch


# ------------------------------------------------------------- reconstruction
@np.errstate(over="ignore", invalid="ignore")
def _terms(X, params, settings, xp):
    """Each element's reconstruction loss (before the row sums)."""
    W, b, D, c = params
    X = _clipped(X, settings.loss, xp)
    Z = ACTIVATIONS[settings.activation][0](X @ W.T + b, xp) @ D + c
    if settings.loss == "cross_entropy":
        return _cross_entropy_terms(X, Z, xp)
    E = Z - X
    return 0.5 * (E * E)


def mean_reconstruction(X, params, settings, memory_share=1.0):
    """The mean reconstruction loss of the rows ``X``, a Python float."""
    xp, device = _namespace(X)
    total = xp.sum(_terms(X, params, settings, xp), dtype=_wide(xp, device))
    return float(total) / X.shape[0]


def reconstruction_losses(X, params, settings):
    """Each row's reconstruction loss, in ``X``'s dtype."""
    xp, _ = _namespace(X)
    return xp.sum(_terms(X, params, settings, xp), axis=1)


def baseline_loss(X, settings):
    """Half the total variance of ``X``'s columns (see the in-process backend's)."""
    xp, _ = _namespace(X)
    return 0.5 * float(xp.sum(xp.var(X, axis=0)))


# -------------------------------------------------------------------- inference
@np.errstate(over="ignore")
def encode(X, W, b, activation):
    """Codes ``f(X W^T + b)``."""
    xp, _ = _namespace(X)
    return ACTIVATIONS[activation][0](X @ W.T + b, xp)


@np.errstate(over="ignore")
def decode(H, D, c, loss):
    """The reconstruction of the codes ``H``."""
    xp, _ = _namespace(H)
    Z = H @ D + c
    return _sigmoid(Z, xp) if loss == "cross_entropy" else Z


@np.errstate(over="ignore")
def jacobian(X, W, b, activation):
    """Per-row encoder Jacobians ``diag(f'(a_i)) W``, shape ``(N, k, n)``."""
    xp, _ = _namespace(X)
    F1 = ACTIVATIONS[activation][1](X @ W.T + b, xp)[1]
    return F1[:, :, None] * W[None, :, :]
