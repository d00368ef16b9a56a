"""Diagnostics of a fitted encoder, after Rifai et al. (ICML 2011).

Each function takes a fitted model and data ``X`` and returns numbers that
say how the encoder ``h(x)`` reacts to its input:

- :func:`mean_jacobian_norm`: mean ``||J(x)||_F`` (the paper's Table 1);
- :func:`saturation_fraction`: fraction of saturated hidden units (SAT);
- :func:`jacobian_spectrum`: averaged singular values of ``J(x)`` (the
  paper's Figure 2: a contractive model has few large ones);
- :func:`directional_sensitivity`: mean ``||J(x) u||`` along a direction;
- :func:`contraction_ratio`: ``||h(x) - h(x')|| / ||x - x'||`` for random
  points ``x'`` at a given distance of ``x`` (the paper's Figure 3).

The Jacobian functions need the model's ``jacobian(X)`` method
(:class:`~sklearn_cae.ContractiveAutoencoder`); the others only need
``transform``. Rows are processed in chunks, so the ``(N, k, n)`` Jacobian
tensor is never held whole. A bad argument is a ``ValueError`` that names
it. They run on the host, in numpy: a model fitted on a GPU (through the
Array API, see the user guide's "GPUs") and its ``X`` are copied to numpy
first, and the results are numpy's.
"""

from numbers import Real

import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.validation import check_array, check_is_fitted

#: Code ranges of the bounded activations (BernoulliRBM's codes are logistic).
_BOUNDS = {"logistic": (0.0, 1.0), "tanh": (-1.0, 1.0)}

_CHUNK_ROWS = 256

_HAS_JACOBIAN = [HasMethods(["jacobian"])]
_HAS_TRANSFORM = [HasMethods(["transform"])]


def _check(model, X):
    """``(model, X)`` on the host, in numpy: a model fitted on the rows of
    another Array API namespace (a GPU's, with ``array_api_dispatch`` on) is
    copied to numpy, and ``X`` with it."""
    check_is_fitted(model)
    if sklearn.get_config()["array_api_dispatch"]:
        from sklearn.utils._array_api import (  # scikit-learn 1.9's, only here
            _convert_to_numpy,
            _is_numpy_namespace,
            get_namespace,
            move_estimator_to,
        )

        xp, _ = get_namespace(X)
        if not _is_numpy_namespace(xp):
            X = _convert_to_numpy(X, xp)
        if not isinstance(model.components_, np.ndarray):
            model = move_estimator_to(model, np, "cpu")
    return model, check_array(X, dtype=[np.float64, np.float32])


def _jacobians(model, X):
    """Yield the per-sample Jacobians of ``X`` chunk by chunk, ``(c, k, n)``."""
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        yield model.jacobian(X[start : start + _CHUNK_ROWS]).astype(np.float64, copy=False)


@validate_params(
    {"model": _HAS_JACOBIAN, "X": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def mean_jacobian_norm(model, X):
    """Mean Frobenius norm of the encoder's Jacobian, ``mean_i ||J(x_i)||_F``.

    The paper's measure of contraction (Table 1, column
    ``||J_f(x)||_F``): small values mean codes that change little when the
    input moves.

    Parameters
    ----------
    model : fitted estimator with a ``jacobian(X)`` method
        For example a fitted :class:`~sklearn_cae.ContractiveAutoencoder`.

    X : array-like of shape (n_samples, n_features)
        Points at which to evaluate the Jacobian (usually test data).

    Returns
    -------
    norm : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cae import ContractiveAutoencoder
    >>> from sklearn_cae.diagnostics import mean_jacobian_norm
    >>> rng = np.random.RandomState(0)
    >>> X = np.c_[rng.rand(100), 0.01 * rng.randn(100)]  # varies along x0 only
    >>> ae = ContractiveAutoencoder(8, contraction=0.0, random_state=0).fit(X)
    >>> cae = ContractiveAutoencoder(8, contraction=0.1, random_state=0).fit(X)
    >>> bool(mean_jacobian_norm(cae, X) < mean_jacobian_norm(ae, X))
    True
    """
    model, X = _check(model, X)
    total = sum(float(np.sqrt(np.einsum("ikn,ikn->i", J, J)).sum()) for J in _jacobians(model, X))
    return total / X.shape[0]


@validate_params(
    {"model": _HAS_JACOBIAN, "X": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def jacobian_spectrum(model, X):
    """Singular values of the encoder's Jacobian, averaged over ``X``.

    For each sample the singular values of ``J(x)`` (shape
    ``(n_components, n_features)``) are sorted in decreasing order, then
    averaged position by position. A contractive model has a sharply
    decaying spectrum: it is sensitive to a few directions (those of the
    data manifold) and flat in the others (the paper's Figure 2).

    Parameters
    ----------
    model : fitted estimator with a ``jacobian(X)`` method

    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    spectrum : ndarray of shape (min(n_components, n_features),)
        Mean singular values, largest first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cae import ContractiveAutoencoder
    >>> from sklearn_cae.diagnostics import jacobian_spectrum
    >>> rng = np.random.RandomState(0)
    >>> X = np.c_[rng.rand(100), 0.01 * rng.randn(100)]  # varies along x0 only
    >>> cae = ContractiveAutoencoder(8, contraction=0.1, random_state=0).fit(X)
    >>> s = jacobian_spectrum(cae, X)
    >>> s.shape, bool(s[0] > 10 * s[1])  # sensitive along x0 only
    ((2,), True)
    """
    model, X = _check(model, X)
    total = sum(np.linalg.svd(J, compute_uv=False).sum(axis=0) for J in _jacobians(model, X))
    return total / X.shape[0]


@validate_params(
    {"model": _HAS_JACOBIAN, "X": ["array-like"], "direction": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def directional_sensitivity(model, X, direction):
    """Mean ``||J(x) u||`` over ``X``: how much the codes move along ``u``.

    Parameters
    ----------
    model : fitted estimator with a ``jacobian(X)`` method

    X : array-like of shape (n_samples, n_features)

    direction : array-like of shape (n_features,)
        The direction ``u``, non-zero; it is normalised to unit length.

    Returns
    -------
    sensitivity : float
        First-order change of the code per unit of input moved along
        ``u``, averaged over the samples.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cae import ContractiveAutoencoder
    >>> from sklearn_cae.diagnostics import directional_sensitivity
    >>> rng = np.random.RandomState(0)
    >>> X = np.c_[rng.rand(100), 0.01 * rng.randn(100)]  # varies along x0 only
    >>> cae = ContractiveAutoencoder(8, contraction=0.1, random_state=0).fit(X)
    >>> along = directional_sensitivity(cae, X, [1, 0])
    >>> across = directional_sensitivity(cae, X, [0, 1])
    >>> bool(along > 10 * across)
    True
    """
    model, X = _check(model, X)
    u = check_array(direction, dtype=np.float64, ensure_2d=False, input_name="direction")
    if u.shape != (X.shape[1],):
        raise ValueError(
            f"direction must have shape (n_features,) = ({X.shape[1]},); got shape {u.shape}."
        )
    norm = np.linalg.norm(u)
    if norm == 0:
        raise ValueError("direction must be a non-zero vector; got only zeros.")
    u = u / norm
    total = sum(float(np.linalg.norm(J @ u, axis=1).sum()) for J in _jacobians(model, X))
    return total / X.shape[0]


@validate_params(
    {
        "model": _HAS_TRANSFORM,
        "X": ["array-like"],
        "threshold": [Interval(Real, 0, 0.5, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def saturation_fraction(model, X, threshold=0.05):
    """Fraction of saturated hidden units, the paper's SAT.

    A unit is saturated at a sample when its code lies within
    ``threshold`` times the activation's range of one of the bounds (for
    the logistic: below 0.05 or above 0.95, as in the paper). The result is
    the fraction of saturated (sample, unit) pairs: the average fraction of
    saturated units per example.

    Parameters
    ----------
    model : fitted transformer with logistic or tanh codes
        A :class:`~sklearn_cae.ContractiveAutoencoder` with
        ``activation="logistic"`` or ``"tanh"``, or a
        :class:`~sklearn.neural_network.BernoulliRBM` (logistic codes).
        Other models (unbounded codes, or no ``activation`` to tell) are a
        ``ValueError``.

    X : array-like of shape (n_samples, n_features)

    threshold : float, default=0.05
        Distance to a bound, as a fraction of the code range.

    Returns
    -------
    fraction : float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cae import ContractiveAutoencoder
    >>> from sklearn_cae.diagnostics import saturation_fraction
    >>> rng = np.random.RandomState(0)
    >>> X = np.c_[rng.rand(100), 0.01 * rng.randn(100)]  # varies along x0 only
    >>> cae = ContractiveAutoencoder(8, contraction=0.1, random_state=0).fit(X)
    >>> 0.0 <= saturation_fraction(cae, X) <= 1.0
    True
    """
    model, X = _check(model, X)
    if isinstance(model, BernoulliRBM):
        activation = "logistic"
    else:
        activation = getattr(model, "activation", None)
    if activation not in _BOUNDS:
        raise ValueError(
            "model must have bounded codes: a ContractiveAutoencoder with activation in "
            f"{sorted(_BOUNDS)}, or a BernoulliRBM; got {model!r}."
        )
    low, high = _BOUNDS[activation]
    margin = threshold * (high - low)
    H = model.transform(X)
    return float(np.mean((H <= low + margin) | (H >= high - margin)))


@validate_params(
    {
        "model": _HAS_TRANSFORM,
        "X": ["array-like"],
        "distances": ["array-like"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def contraction_ratio(model, X, distances, *, random_state=None):
    """Mean ``||h(x) - h(x')|| / ||x - x'||`` for ``x'`` at given distances.

    For each distance ``r`` and each sample ``x``, a point ``x'`` is drawn
    uniformly on the sphere of radius ``r`` around ``x``; the ratio of the
    distance between the codes to ``r`` is averaged over the samples. Near
    ``r = 0`` it is the mean ``||J(x) u||`` over random directions ``u``;
    a contractive model keeps it small over a wider range of distances
    (the paper's Figure 3).

    Parameters
    ----------
    model : fitted transformer

    X : array-like of shape (n_samples, n_features)

    distances : array-like of shape (n_distances,)
        Radii ``r``, each positive.

    random_state : int, RandomState instance or None, default=None
        Draws the random directions.

    Returns
    -------
    ratios : ndarray of shape (n_distances,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cae import ContractiveAutoencoder
    >>> from sklearn_cae.diagnostics import contraction_ratio
    >>> rng = np.random.RandomState(0)
    >>> X = np.c_[rng.rand(100), 0.01 * rng.randn(100)]  # varies along x0 only
    >>> cae = ContractiveAutoencoder(8, contraction=0.1, random_state=0).fit(X)
    >>> contraction_ratio(cae, X, [0.1, 1.0], random_state=0).shape
    (2,)
    """
    model, X = _check(model, X)
    distances = check_array(distances, ensure_2d=False, input_name="distances")
    if distances.ndim != 1 or np.any(distances <= 0):
        raise ValueError(f"distances must be a 1-D array of positive radii; got {distances}.")
    rng = check_random_state(random_state)
    H = model.transform(X)
    ratios = []
    for r in distances.astype(np.float64):
        U = rng.standard_normal(X.shape)
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        moved = model.transform((X + r * U).astype(X.dtype, copy=False))
        ratios.append(np.linalg.norm(moved - H, axis=1).mean() / r)
    return np.asarray(ratios)
