"""Where the rows live: one module per place, each defining the same
functions (:data:`FUNCTIONS`) on its rows from the kernels of ``_objective``.

- ``inprocess``: numpy arrays and scipy.sparse matrices in this process;
- ``dask``: dask arrays and DataFrames, each block where it lives;
- ``array_api``: with scikit-learn's ``array_api_dispatch`` on, arrays of
  another Array API namespace (PyTorch, CuPy, ``array_api_strict``) on
  their device.

:func:`pick` chooses the module for ``X``; a new place is a module and a
line there. Only ``validate`` receives the estimator (and
:func:`check_model_namespace`: scikit-learn's check and message need it).
"""

import sys

import numpy as np
import sklearn

#: What every backend defines, each taking arrays, numbers and ``Settings``.
FUNCTIONS = (
    "check_settings",  # (settings): refuse what these rows cannot do, before any work
    "validate",  # (estimator, X, reset) -> validated rows
    "validate_codes",  # (H) -> validated codes for decode
    "extremes",  # (X) -> (min, max) of the stored values, or None
    "hold",  # (X) -> the rows kept for a fit (dask: persisted)
    "split",  # (X, test_size, random_state) -> (train rows, validation rows)
    "workspace",  # (X, minibatch) -> the context an objective runs in
    "full_objective",  # (X, settings, workspace, random_state, gradient) -> (fun, seed)
    "minibatch_objective",  # (X, settings, workspace, random_state, batch_size, shuffle)
    "baseline_loss",  # (X, settings) -> half the total variance: the stopping rule's unit
    "mean_reconstruction",  # (X, params, settings, memory_share) -> float
    "reconstruction_losses",  # (X, params, settings) -> one per row
    "encode",  # (X, W, b, activation) -> codes
    "decode",  # (H, D, c, loss) -> reconstruction
    "jacobian",  # (X, W, b, activation) -> one Jacobian per row
    "vector",  # (theta, X) -> the flat parameters where X's minibatches step them
    "parameters",  # (theta, X, settings) -> (W, b, D, c) in X's namespace, device, dtype
    "cast",  # (A, dtype) -> A in dtype
    "to_numpy",  # (A) -> A as a numpy array on the host
)


def pick(X):
    """The backend module of the rows ``X``. Never imports dask: without it
    loaded, nothing is a dask collection."""
    dask_module = sys.modules.get("dask")
    if dask_module is not None and dask_module.is_dask_collection(X):
        from . import dask

        return dask
    if _of_another_namespace(X):
        return _array_api()
    from . import inprocess

    return inprocess


def _array_api():
    """The ``array_api`` backend, which needs scikit-learn 1.9 or newer (its
    array API helpers); numpy, sparse and dask rows work with older ones."""
    try:
        from . import array_api
    except ImportError as error:
        raise ImportError(
            "Array API input (array_api_dispatch on, X a PyTorch, CuPy or array_api_strict "
            f"array) needs scikit-learn 1.9 or newer; this is scikit-learn {sklearn.__version__}."
        ) from error
    return array_api


def is_array_api(backend):
    """Whether ``backend`` is the one of rows of another Array API namespace."""
    return backend.__name__ == __name__ + ".array_api"


def check_model_namespace(X, estimator, method):
    """For a model fitted on (or called with) rows of another Array API
    namespace: scikit-learn's error unless ``X`` is of the model's namespace
    and device."""
    _array_api().check_model_namespace(X, estimator, method)


#: The key of a stored estimator state that says where its arrays lived.
PLACE = "_array_api_place"


def portable_state(state):
    """An estimator's state as pickle, joblib and skops store it: see
    ``array_api.portable_state`` (a numpy model's is itself)."""
    W = state.get("components_")
    if W is None or isinstance(W, np.ndarray):
        return state
    return _array_api().portable_state(state)


def restored_state(state):
    """The state :func:`portable_state` stored, its arrays back where they lived."""
    return state if PLACE not in state else _array_api().restored_state(state)


def _of_another_namespace(X):
    """Whether ``X`` is an array of an Array API namespace other than numpy's
    and scikit-learn's ``array_api_dispatch`` is on (lists, DataFrames and
    sparse matrices are numpy's)."""
    if not sklearn.get_config()["array_api_dispatch"]:
        return False
    from sklearn.utils._array_api import _is_numpy_namespace, get_namespace

    xp, is_array_api = get_namespace(X)
    return is_array_api and not _is_numpy_namespace(xp)


def finfo(dtype):
    """``np.finfo`` of a float dtype of any namespace (numpy's, PyTorch's,
    ``array_api_strict``'s: by its name)."""
    return np.finfo(np.dtype(str(dtype).rpartition(".")[2]))
