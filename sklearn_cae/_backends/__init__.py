"""Where the rows live: one module per place, each defining the same
functions (:data:`FUNCTIONS`) on its rows from the kernels of ``_objective``.

- ``inprocess``: numpy arrays and scipy.sparse matrices in this process;
- ``dask``: dask arrays and DataFrames, each block where it lives.

:func:`pick` chooses the module for ``X``; a new place is a module and a
line there. Only ``validate`` receives the estimator.
"""

import sys

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
)


def pick(X):
    """The backend module of the rows ``X``. Never imports dask: without it
    loaded, nothing is a dask collection."""
    dask_module = sys.modules.get("dask")
    if dask_module is not None and dask_module.is_dask_collection(X):
        from . import dask

        return dask
    from . import inprocess

    return inprocess
