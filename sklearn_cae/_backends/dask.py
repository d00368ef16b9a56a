"""Rows on a dask cluster: the functions of every backend (see
``_backends.FUNCTIONS``), each block of rows running the kernels of
``_objective`` where it lives.

Imported only when ``X`` is a dask collection (dask is an optional extra,
``pip install ".[dask]"`` from a clone). Nothing here is math: only sums
(one float and one parameter-sized float64 vector) come back from the
blocks, added in a tree of fixed shape so that a fit is reproducible. The
chunk budget and thread rule are the in-process backend's: a block is rows
in a worker's process.

With a ``distributed`` client the parameters are scattered to every
worker once per evaluation (``broadcast=True``), not embedded in each
block's task; without one, dask's local scheduler runs the same graph.
"""

import dask
import dask.array
import numpy as np
from sklearn.utils.validation import check_array, validate_data

from .. import _objective
from . import inprocess
from .inprocess import cast, parameters, vector  # noqa: F401 (parameters are numpy's)

#: Partial sums added by one task of the reduction tree.
FAN_IN = 8


# ----------------------------------------------------------------- validation
def check_settings(settings):
    """Refuse, before any work, what dask rows cannot do: the CAE+H term."""
    if settings.hessian_penalty > 0:
        raise ValueError(
            "hessian_penalty > 0 is not supported for dask arrays: use "
            "hessian_penalty=0, or fit on a numpy array."
        )


def validate(estimator, X, reset):
    """Validated rows of the dask array or DataFrame ``X``, lazily.

    The feature count (and names) are checked here from the metadata, as
    ``validate_data`` checks a numpy array's; each block's values (NaN,
    infinity, a float dtype) are checked by ``check_array`` on the worker
    that computes it, so the errors are numpy's. Blocks hold whole rows;
    unknown block sizes are computed first.
    """
    # What the messages of validate_data's check_array name.
    names = {"estimator": type(estimator).__name__, "input_name": "X"}
    if hasattr(X, "to_dask_array"):  # a dask DataFrame: its partitions become row blocks
        if X.ndim != 2:  # a dask Series: pandas' error for a Series
            check_array(X._meta, ensure_min_samples=0, **names)
        # names and count, from the empty pandas frame that describes the columns
        validate_data(estimator, X._meta, reset=reset, skip_check_array=True)
        return _checked(_frame_to_array(X, names), names)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array, got a {X.ndim}D array of shape {X.shape}.")
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    return _checked(X, names)


def validate_codes(H):
    """Validated codes (inverse_transform's input), as :func:`validate`
    checks rows; their column count is left to the caller."""
    if hasattr(H, "to_dask_array"):
        if H.ndim != 2:
            check_array(H._meta, ensure_min_samples=0)
        return _checked(_frame_to_array(H, {}), {})
    if H.ndim != 2:
        raise ValueError(f"Expected a 2D dask array, got a {H.ndim}D array of shape {H.shape}.")
    return _checked(H, {})


def _checked(X, names):
    """``X`` with known block sizes, whole rows per block, each block checked
    by ``check_array`` where it is computed (its messages naming ``names``)."""
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


def extremes(X):
    """``(min, max)`` of the dask array ``X`` in its dtype, None if it holds
    no value, computed on the workers block by block (dask's own min and
    max fail on a block of no rows)."""
    chunks = ((1,) * X.numblocks[0], (2,))
    per_block = X.map_blocks(_extremes, chunks=chunks, dtype=X.dtype).compute()
    low, high = per_block[:, 0].min(), per_block[:, 1].max()
    return None if low > high else (low, high)


def _extremes(block):
    if block.size == 0:
        return np.array([[np.inf, -np.inf]], dtype=block.dtype)
    return np.array([[block.min(), block.max()]])


def to_numpy(A):
    """``A`` computed, as a numpy array."""
    return np.asarray(A)


def hold(X):
    """``X``'s blocks computed once and held by the workers for the whole fit."""
    return X.persist()


def split(X, test_size, random_state):
    """Hold out as many random rows as ``train_test_split`` would,
    ``ceil(test_size * n_samples)`` (with its error when no training row
    would be left), each block its share (:func:`held_out`), on the
    workers: nothing is gathered. Returns ``(X_train, X_test)``, persisted."""
    rows = X.chunks[0]
    seeds = random_state.randint(np.iinfo(np.int32).max, size=len(rows)).tolist()
    n_test = held_out(rows, test_size)

    def part(test):
        sizes = tuple(t if test else m - t for m, t in zip(rows, n_test, strict=True))
        return X.map_blocks(
            _split_block, seeds, n_test, test, chunks=(sizes, X.chunks[1]), dtype=X.dtype
        )

    return dask.persist(part(test=False), part(test=True))


def held_out(rows, test_size):
    """Rows to hold out of blocks of ``rows`` rows: ``ceil(test_size * sum(rows))``
    in all, as scikit-learn's split, dealt in proportion to the blocks'
    sizes (each ``test_size * m`` rounded down, the rest one each to the
    blocks with the largest remainders), so small blocks do not each hold
    out a whole row."""
    n_samples = sum(rows)
    n_test = int(np.ceil(test_size * n_samples))
    if n_samples - n_test < 1:
        raise ValueError(
            f"With n_samples={n_samples}, test_size={test_size} and train_size=None, the "
            "resulting train set will be empty. Adjust any of the aforementioned parameters."
        )
    shares = [test_size * m for m in rows]
    counts = [int(np.floor(share)) for share in shares]
    by_remainder = sorted(range(len(rows)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: n_test - sum(counts)]:
        counts[i] += 1
    return counts


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
    and gathers the one total; ``_objective.from_row_sums`` then adds the L2 term
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
        return _objective.from_row_sums(
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


def minibatch_objective(X, settings, workspace, random_state, batch_size, shuffle):
    """``(fun, epoch)`` for Adam, as ``inprocess.minibatch_objective``: the
    blocks are visited one at a time (:class:`BlockStream`), each minibatch's
    rows computed in this process."""
    stream = BlockStream(X, batch_size, shuffle, random_state)
    objective = inprocess.batch_objective(settings, workspace, random_state)

    def fun(theta, key):
        return objective(theta, stream.rows(key))

    return fun, stream.epoch


def workspace(X, minibatch=False):
    """Adam's minibatches are rows in this process: the in-process workspace."""
    return inprocess.workspace(X, minibatch)


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
    each block's rows in minibatches (``inprocess.minibatches``), as
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
            batches = inprocess.minibatches(size, self.batch_size, self.shuffle, self.random_state)
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
def mean_reconstruction(X, params, settings, memory_share=1.0):
    """The mean reconstruction loss of the rows of the dask array ``X`` at
    ``params = (W, b, D, c)``, summed block by block on the workers, each
    block in chunks of the in-process rule."""
    chunk_rows = inprocess.reconstruction_rows(X, settings, memory_share)
    params = broadcast(params)
    block_sum = dask.delayed(_reconstruction_sum, pure=False)
    args = (settings.activation, settings.loss, chunk_rows)
    parts = [block_sum(block, params, *args) for block in X.to_delayed().ravel()]
    return tree_sum(parts).compute()[0] / X.shape[0]


def baseline_loss(X, settings):
    """``inprocess.baseline_loss`` of the dask array ``X``: each block's
    column moments where it lives, merged in block order on the client."""
    chunk_rows = inprocess.moments_rows(X, settings)
    moments = dask.delayed(_objective.column_moments, pure=True)
    parts = dask.compute(*[moments(block, chunk_rows) for block in X.to_delayed().ravel()])
    total = (0, np.zeros(X.shape[1]), np.zeros(X.shape[1]))
    for part in parts:
        total = _objective.merge_moments(total, part)
    return _objective.half_total_variance(total)


def reconstruction_losses(X, params, settings):
    """Each row's reconstruction loss, lazily, with ``X``'s row chunks."""
    args = (settings.activation, settings.loss, inprocess.reconstruction_rows(X, settings))
    return map_rows(_objective.reconstruction_losses, X, params, *args, columns=[])


def _reconstruction_sum(X, params, *args):
    return (_objective.reconstruction_loss_sum(X, *params, *args),)


# ----------------------------------------------------------------- inference
def encode(X, W, b, activation):
    """The codes of ``X``, lazily."""
    return map_rows(_objective.encode, X, (W, b), activation, columns=[W.shape[0]])


def decode(H, D, c, loss):
    """The reconstruction of the codes ``H``, lazily."""
    return map_rows(_objective.decode, H, (D, c), loss, columns=[D.shape[1]])


def jacobian(X, W, b, activation):
    """Each row's encoder Jacobian, lazily."""
    return map_rows(_objective.jacobian, X, (W, b), activation, columns=W.shape, new_axis=1)


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
