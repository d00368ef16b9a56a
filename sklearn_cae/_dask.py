"""Where the rows live on a dask cluster: the same block objective, mapped
and tree-summed.

Imported only when ``X`` is a dask array (dask is an optional extra,
``pip install ".[dask]"`` from a clone). Nothing here is math: each block of
rows runs the functions of ``_objective`` where it lives, and only sums
(one float and one parameter-sized float64 vector) come back, added in a
tree of fixed shape so that a fit is reproducible.

With a ``distributed`` client the parameters are scattered to every
worker once per evaluation (``broadcast=True``), not embedded in each
block's task; without one, dask's local scheduler runs the same graph.
"""

import dask
import dask.array
import numpy as np
from sklearn.utils.validation import check_array, validate_data

from . import _objective, _solvers
from ._backends import inprocess

#: Partial sums added by one task of the reduction tree.
FAN_IN = 8


# ----------------------------------------------------------------- validation
def check_X(estimator, X, *, reset, codes=False):
    """Validated rows of the dask array ``X``, lazily.

    The feature count (and names) are checked here from the metadata, as
    ``validate_data`` checks a numpy array's; each block's values (NaN,
    infinity, a float dtype) are checked by ``check_array`` on the worker
    that computes it, so the errors are numpy's. Blocks hold whole rows;
    unknown block sizes are computed first. For ``codes``
    (inverse_transform's input) the column count is left to the caller.
    """
    # What the messages of validate_data's check_array name (of codes: nothing).
    names = {} if codes else {"estimator": type(estimator).__name__, "input_name": "X"}
    if hasattr(X, "to_dask_array"):  # a dask DataFrame: its partitions become row blocks
        if X.ndim != 2:  # a dask Series: pandas' error for a Series
            check_array(X._meta, ensure_min_samples=0, **names)
        if not codes:
            # names and count, from the empty pandas frame that describes the columns
            validate_data(estimator, X._meta, reset=reset, skip_check_array=True)
        X = _frame_to_array(X, names)
    elif X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array, got a {X.ndim}D array of shape {X.shape}.")
    elif not codes:
        validate_data(estimator, X, reset=reset, skip_check_array=True)
    if any(np.isnan(size) for size in X.shape):
        X = X.compute_chunk_sizes()
    if X.shape[0] == 0:
        check_array(np.empty(X.shape), **names)  # numpy's error for no rows
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return X.rechunk({1: -1}).map_blocks(_check_block, dtype=dtype, **names)


def _frame_to_array(frame, names):
    """The dask DataFrame ``frame`` as a dask array of its partitions, each
    converted by ``check_array`` from pandas where it lives, so that pandas'
    own values (nullable dtypes, ``pd.NA``) get pandas' errors. Computes the
    partitions' lengths, not the data."""
    lengths = frame.map_partitions(len).compute()
    meta = check_array(frame._meta, dtype=[np.float64, np.float32], ensure_min_samples=0)
    convert = dask.delayed(_check_block, pure=True)
    blocks = [
        dask.array.from_delayed(convert(part, **names), (m, meta.shape[1]), dtype=meta.dtype)
        for part, m in zip(frame.to_delayed(), lengths, strict=True)
    ]
    return dask.array.concatenate(blocks)


def _check_block(block, **names):
    return check_array(block, dtype=[np.float64, np.float32], ensure_min_samples=0, **names)


def check_unit_interval(estimator, X):
    """The estimator's cross-entropy check on ``X``'s extremes, computed
    on the workers: the same error as for the whole array in memory."""
    if estimator.loss == "cross_entropy":
        estimator._check_unit_interval(np.array(extremes(X), dtype=X.dtype))


def extremes(X):
    """``(min, max)`` of the dask array ``X``, computed on the workers block
    by block (dask's own min and max fail on a block of no rows)."""
    chunks = ((1,) * X.numblocks[0], (2,))
    per_block = X.map_blocks(_extremes, chunks=chunks, dtype=X.dtype).compute()
    return per_block[:, 0].min(), per_block[:, 1].max()


def _extremes(block):
    if block.size == 0:
        return np.array([[np.inf, -np.inf]], dtype=block.dtype)
    return np.array([[block.min(), block.max()]])


def persist_checked(estimator, X):
    """``X``'s blocks computed once and held by the workers for the whole
    fit, then the estimator's cross-entropy check on them."""
    X = X.persist()
    check_unit_interval(estimator, X)
    return X


def train_test_split(X, *, test_size, random_state):
    """Hold out ``ceil(test_size * m)`` random rows of each block of ``m``
    rows, on the workers: nothing is gathered. Returns ``(X_train, X_test)``,
    persisted."""
    rows = X.chunks[0]
    seeds = random_state.randint(np.iinfo(np.int32).max, size=len(rows)).tolist()
    n_test = [int(np.ceil(test_size * m)) for m in rows]

    def part(test):
        sizes = tuple(t if test else m - t for m, t in zip(rows, n_test, strict=True))
        return X.map_blocks(
            _split_block, seeds, n_test, test, chunks=(sizes, X.chunks[1]), dtype=X.dtype
        )

    return dask.persist(part(test=False), part(test=True))


def _split_block(block, seeds, n_test, test, block_id=None):
    i = block_id[0]
    order = np.random.default_rng(seeds[i]).permutation(block.shape[0])
    chosen = order[: n_test[i]] if test else order[n_test[i] :]
    return block[np.sort(chosen)]


# ------------------------------------------------------------------ training
class Objective:
    """``theta -> (J, grad)`` on a persisted dask array, as
    ``_objective.loss_and_grad`` computes it in memory.

    Each evaluation sends ``theta`` once to every worker, runs
    ``_objective.loss_and_grad_sums`` on each block where it lives, adds
    the blocks' sums in float64 in a tree of fixed shape (:func:`tree_sum`)
    and gathers the one total; ``_objective.finish`` then adds the L2 term
    and divides by the number of rows. The client holds only
    parameter-sized vectors.
    """

    def __init__(self, X, *, alpha, **settings):
        self.blocks = X.to_delayed().ravel().tolist()
        self.n_samples, self.n_features = X.shape
        self.alpha = alpha
        self.settings = settings

    def __call__(self, theta):
        theta_on_workers = broadcast(theta)
        sums = dask.delayed(_objective.loss_and_grad_sums, pure=False)
        parts = [sums(theta_on_workers, block, **self.settings) for block in self.blocks]
        total = tree_sum(parts).compute()
        return _objective.finish(
            total,
            theta,
            self.n_samples,
            self.n_features,
            self.settings["n_components"],
            self.settings["tied"],
            self.alpha,
        )


def full_objective(X, settings, workspace=None, random_state=None, gradient=True):
    """The objective on all the rows of the persisted dask array ``X``, as
    ``inprocess.full_objective`` returns it: ``(Objective, None)`` (no
    CAE+H term on dask, so no corruption seed). Its chunks follow the
    in-process rule for ``workspace``'s threads."""
    threads = inprocess.threads_in(workspace, X.shape[0])
    args = inprocess.kernel_args(X, settings, threads, gradient)
    return Objective(X, alpha=settings.alpha, **args), None


def broadcast(value):
    """``value`` on every worker: scattered once by a distributed client,
    else one key of the local graph."""
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):  # no distributed, or no client
        return dask.delayed(value)
    return client.scatter(value, broadcast=True, hash=False)


def tree_sum(parts):
    """The sum of the delayed ``(float, ndarray)`` tuples ``parts``, as a
    tree of :data:`FAN_IN`-way additions whose shape depends only on
    ``len(parts)``: the same order of float64 additions at every run."""
    while len(parts) > 1:
        parts = [
            dask.delayed(_add, pure=False)(*parts[i : i + FAN_IN])
            for i in range(0, len(parts), FAN_IN)
        ]
    return parts[0]


def _add(*parts):
    total = parts[0]
    for part in parts[1:]:
        total = tuple(None if a is None else a + b for a, b in zip(total, part, strict=True))
    return total


class BlockStream:
    """The rows of a dask array for minibatch Adam, one block at a time.

    An epoch visits the blocks in a random order (with ``shuffle``) and
    each block's rows in minibatches (``_solvers.minibatches``), as
    dask-ml's ``Incremental`` feeds ``partial_fit``: the client holds one
    block, never the whole array.
    """

    def __init__(self, X, batch_size, shuffle, random_state):
        self.X = X
        self.batch_size, self.shuffle, self.random_state = batch_size, shuffle, random_state
        self._index, self._block = None, None

    def epoch(self):
        """``((block index, rows of the block), n_rows)`` for each minibatch."""
        n_blocks = self.X.numblocks[0]
        blocks = self.random_state.permutation(n_blocks) if self.shuffle else range(n_blocks)
        for i in blocks:
            size = self.X.chunks[0][i]
            batches = _solvers.minibatches(size, self.batch_size, self.shuffle, self.random_state)
            for rows, n_rows in batches:
                yield (i, rows), n_rows

    def rows(self, key):
        """The rows ``key = (block index, rows)``, fetching the block if it
        is not the one held."""
        i, rows = key
        if i != self._index:
            self._block = None  # let the previous block go first
            self._block, self._index = self.X.blocks[i].compute(), i
        return self._block[rows]


# ------------------------------------------- scoring (and validation scores)
def score(estimator, X):
    """``estimator.score(X)`` of a dask array: validated, and the
    reconstruction summed, block by block on the workers."""
    X = check_X(estimator, X, reset=False)
    check_unit_interval(estimator, X)
    W, b, D, c = estimator._params(X.dtype)
    args = (estimator.activation, estimator.loss, inprocess.chunk_rows(X, estimator._settings()))
    return -mean_reconstruction_loss(X, W, b, D, c, *args)


def score_samples(estimator, X):
    """``estimator.score_samples(X)`` of the validated dask array ``X``: the
    cross-entropy's range checked now (numpy's error), the scores lazy."""
    check_unit_interval(estimator, X)
    W, b, D, c = estimator._params(X.dtype)
    rows = inprocess.reconstruction_rows(X, estimator._settings())
    args = (estimator.activation, estimator.loss, rows)
    losses = map_rows(_objective.reconstruction_losses, X, (W, b, D, c), *args, columns=[])
    return -losses


def mean_reconstruction_loss(X, W, b, D, c, activation, loss, chunk_rows):
    """``_objective.mean_reconstruction_loss`` of a dask array, block by
    block on the workers."""
    params = broadcast((W, b, D, c))
    block_sum = dask.delayed(_reconstruction_sum, pure=False)
    parts = [
        block_sum(block, params, activation, loss, chunk_rows) for block in X.to_delayed().ravel()
    ]
    return tree_sum(parts).compute()[0] / X.shape[0]


def _reconstruction_sum(X, params, *args):
    return (_objective.reconstruction_loss_sum(X, *params, *args),)


# ----------------------------------------------------------------- inference
def map_rows(fun, X, params, *args, columns, new_axis=None):
    """Lazy ``fun(block, *params, *args)`` on each block of rows of ``X``:
    a dask array with ``X``'s row chunks, each block ``(rows, *columns)``
    (``columns=[]``: one value per row)."""
    params = [dask.delayed(p) for p in params]
    return X.map_blocks(
        fun,
        *params,
        *args,
        chunks=(X.chunks[0], *((size,) for size in columns)),
        new_axis=new_axis,
        drop_axis=None if columns else 1,
        dtype=X.dtype,
    )
