"""Fit, transform, score and grid-search on a dask array, against a real
``distributed.LocalCluster`` (two worker processes, one thread each)."""

import subprocess
import sys
import tracemalloc

import dask
import dask.array as da
import joblib
import numpy as np
import pytest
from distributed import Client, LocalCluster
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae._backends import dask as dask_backend


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def X():
    return np.random.RandomState(0).uniform(0, 1, (200, 6))


def to_dask(X):
    return da.from_array(X, chunks=(45, 3))  # uneven row blocks, split columns


CONFIGS = [
    {},
    {"tied_weights": False, "alpha": 0.5, "loss": "cross_entropy", "activation": "tanh"},
]


@pytest.mark.parametrize("params", CONFIGS)
def test_fit_equals_in_memory(client, X, params):
    kwargs = dict(n_components=4, max_iter=5, tol=0.0, random_state=0, **params)
    local = ContractiveAutoencoder(**kwargs).fit(X)
    remote = ContractiveAutoencoder(**kwargs).fit(to_dask(X))
    assert remote.n_iter_ == local.n_iter_
    assert_allclose(remote.loss_, local.loss_, rtol=1e-10)
    assert_allclose(remote.loss_curve_, local.loss_curve_, rtol=1e-10)
    for name in ("components_", "decoder_components_", "intercept_hidden_"):
        assert_allclose(getattr(remote, name), getattr(local, name), rtol=1e-8, atol=1e-10)


def test_fit_is_reproducible(client, X):
    def fit():
        return ContractiveAutoencoder(4, max_iter=3, tol=0.0, random_state=0).fit(to_dask(X))

    assert np.array_equal(fit().components_, fit().components_)


def test_client_memory_stays_parameter_sized(client):
    # 25.6 MB of float64 rows made on the workers, in blocks of 3.2 MB; the
    # parameters are 458 floats. The client must hold neither the array nor
    # a block of it (what it does hold, about 1.5 MB, is distributed's own).
    X = da.random.RandomState(0).uniform(size=(64_000, 50), chunks=(8_000, 50)).persist()
    cae = ContractiveAutoencoder(n_components=8, max_iter=3, tol=0.0, random_state=0)
    tracemalloc.start()
    try:
        cae.fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.blocks[0].nbytes, (peak, X.nbytes)
    assert cae.n_iter_ == 3


def test_inference_is_lazy_and_equals_in_memory(client, X):
    cae = ContractiveAutoencoder(n_components=4, max_iter=5, random_state=0).fit(X)
    dX = to_dask(X)
    H = cae.transform(dX)
    R = cae.inverse_transform(H)
    J = cae.jacobian(dX)
    for lazy, shape in ((H, (200, 4)), (R, (200, 6)), (J, (200, 4, 6))):
        assert isinstance(lazy, da.Array)
        assert lazy.shape == shape
        assert lazy.chunks[0] == dX.chunks[0]  # blocks of rows, where they are
    assert_allclose(H.compute(), cae.transform(X), rtol=1e-12)
    assert_allclose(R.compute(), cae.inverse_transform(cae.transform(X)), rtol=1e-12)
    assert_allclose(J.compute(), cae.jacobian(X), rtol=1e-12)
    assert isinstance(cae.score(dX), float)
    assert_allclose(cae.score(dX), cae.score(X), rtol=1e-12)
    X32 = X.astype(np.float32)
    assert cae.transform(to_dask(X32)).compute().dtype == np.float32


def test_early_stopping_splits_each_block(client, X):
    dX = to_dask(X).rechunk({1: -1})
    train, val = dask_backend.split(dX, 0.25, np.random.RandomState(0))
    # ceil(0.25 * 200) = 50 rows in all, as numpy's split, each block its share
    assert val.chunks[0] == (12, 11, 11, 11, 5)
    rows = np.concatenate([train.compute(), val.compute()])
    assert_allclose(np.sort(rows, axis=0), np.sort(X, axis=0))  # a partition of the rows
    cae = ContractiveAutoencoder(
        n_components=4, max_iter=6, early_stopping=True, random_state=0
    ).fit(to_dask(X))
    assert len(cae.validation_scores_) == cae.n_iter_
    assert cae.best_validation_score_ == max(cae.validation_scores_)


def error_message(fun, *args):
    with pytest.raises(ValueError) as info:
        fun(*args)
    return str(info.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bad_values_same_error_as_numpy(client, X, bad):
    X_bad = X.copy()
    X_bad[150, 4] = bad  # in the fourth block
    cae = ContractiveAutoencoder(n_components=3, max_iter=2)
    expected = error_message(cae.fit, X_bad)
    assert error_message(cae.fit, to_dask(X_bad)) == expected
    cae.fit(X)
    expected = error_message(cae.transform, X_bad)
    assert error_message(lambda Z: cae.transform(Z).compute(), to_dask(X_bad)) == expected


def test_feature_count_and_unit_interval_same_error_as_numpy(client, X):
    cae = ContractiveAutoencoder(n_components=3, max_iter=2, loss="cross_entropy").fit(X)
    wide = np.ones((10, 7))
    assert error_message(cae.transform, to_dask(wide)) == error_message(cae.transform, wide)
    assert error_message(cae.score, to_dask(wide)) == error_message(cae.score, wide)
    codes = np.ones((10, 5))
    assert error_message(cae.inverse_transform, to_dask(codes)) == error_message(
        cae.inverse_transform, codes
    )
    outside = X.copy()
    outside[120, 2], outside[7, 0] = 1.5, -0.25
    expected = error_message(ContractiveAutoencoder(loss="cross_entropy").fit, outside)
    assert "[-0.25, 1.5]" in expected
    fit = ContractiveAutoencoder(loss="cross_entropy").fit
    assert error_message(fit, to_dask(outside)) == expected
    assert error_message(cae.score, to_dask(outside)) == error_message(cae.score, outside)


def test_grid_search_on_dask_backend_equals_local(client, X):
    grid = GridSearchCV(
        ContractiveAutoencoder(n_components=3, max_iter=5, random_state=0),
        {"contraction": [0.0, 0.1, 1.0]},
        cv=2,
    )
    local = grid.fit(X).cv_results_
    with joblib.parallel_config(backend="dask", scatter=[X]):
        remote = grid.fit(X).cv_results_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "rank_test_score"):
        assert_allclose(remote[key], local[key], rtol=1e-12)


def test_hessian_penalty_is_refused(client, X):
    with pytest.raises(ValueError, match="hessian_penalty > 0 is not supported for dask"):
        ContractiveAutoencoder(hessian_penalty=0.1).fit(to_dask(X))


def run_python(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_without_dask_the_package_imports_and_fits():
    run_python(
        "import sys\n"
        "sys.modules['dask'] = sys.modules['distributed'] = None  # importing them fails\n"
        "import numpy as np\n"
        "from sklearn_cae import ContractiveAutoencoder\n"
        "X = np.random.RandomState(0).rand(50, 4)\n"
        "ContractiveAutoencoder(2, max_iter=3).fit(X).transform(X)\n"
        "assert 'dask' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
    )


def test_without_distributed_dask_arrays_fit_on_the_local_scheduler():
    run_python(
        "import sys\n"
        "sys.modules['distributed'] = None\n"
        "import dask.array as da, numpy as np\n"
        "from sklearn_cae import ContractiveAutoencoder\n"
        "X = np.random.RandomState(0).rand(60, 4)\n"
        "kw = dict(n_components=2, max_iter=4, tol=0.0, random_state=0)\n"
        "a = ContractiveAutoencoder(**kw).fit(X)\n"
        "b = ContractiveAutoencoder(**kw).fit(da.from_array(X, chunks=25))\n"
        "np.testing.assert_allclose(b.components_, a.components_, rtol=1e-10)\n"
    )


def test_tree_sum_has_a_fixed_shape():
    parts = [dask.delayed((float(i), np.full(2, float(i)))) for i in range(20)]
    total = dask_backend.tree_sum(parts)
    assert len(dict(total.__dask_graph__())) == 20 + 3 + 1  # 20 leaves, 3 + 1 additions
    J, grad = total.compute(scheduler="sync")
    assert J == sum(range(20)) and grad.tolist() == [190.0, 190.0]


def test_adam_streams_blocks_like_in_memory_batches(client, X):
    # Blocks of 50 rows hold whole batches of 25: without shuffling, the
    # batches are those of the in-memory fit, in the same order.
    kwargs = dict(n_components=4, solver="adam", batch_size=25, shuffle=False, random_state=0)
    local = ContractiveAutoencoder(max_iter=3, **kwargs).fit(X)
    remote = ContractiveAutoencoder(max_iter=3, **kwargs).fit(da.from_array(X, chunks=(50, 6)))
    assert_allclose(remote.loss_curve_, local.loss_curve_, rtol=1e-12)
    assert_allclose(remote.components_, local.components_, rtol=1e-12)
    one_epoch = ContractiveAutoencoder(max_iter=1, **kwargs).fit(X)
    streamed = ContractiveAutoencoder(**kwargs).partial_fit(da.from_array(X, chunks=(50, 6)))
    assert_allclose(streamed.components_, one_epoch.components_, rtol=1e-12)


def test_block_stream_visits_each_row_once_one_block_at_a_time(client, X):
    dX = to_dask(X).rechunk({1: -1})
    stream = dask_backend.BlockStream(dX, 10, True, np.random.RandomState(0))
    for _ in range(2):
        seen, fetched = [], []
        for key, n_rows in stream.epoch():
            rows = stream.rows(key)
            assert rows.shape == (n_rows, 6) and n_rows <= 10
            if not fetched or fetched[-1] != stream._index:
                fetched.append(stream._index)
            seen.append(rows)
        assert sorted(fetched) == list(range(dX.numblocks[0]))  # each block fetched once
        assert_allclose(np.sort(np.concatenate(seen), axis=0), np.sort(X, axis=0))


def test_dask_dataframe_of_numbers_fits_where_its_partitions_are(client, X):
    import dask.dataframe as dd  # dask[dataframe] is in the test extra
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    ddf = dd.from_pandas(frame, npartitions=4)
    kwargs = dict(n_components=4, max_iter=5, tol=0.0, random_state=0)
    local = ContractiveAutoencoder(**kwargs).fit(frame)
    remote = ContractiveAutoencoder(**kwargs).fit(ddf)
    assert_allclose(remote.loss_, local.loss_, rtol=1e-10)
    assert_allclose(remote.components_, local.components_, rtol=1e-8, atol=1e-10)
    assert list(remote.feature_names_in_) == list(frame.columns)
    H = remote.transform(ddf)
    assert isinstance(H, da.Array)
    assert_allclose(H.compute(), local.transform(frame), rtol=1e-8, atol=1e-10)
    # a missing column: the same error as for the pandas frame
    columns = ["f0", "f1", "f2", "f3", "f4"]
    assert error_message(remote.transform, ddf[columns]) == error_message(
        local.transform, frame[columns]
    )


def test_empty_blocks_are_valid_blocks(client, X):
    # Filtered partitions are often empty; early stopping empties a 1-row block.
    kwargs = dict(n_components=4, max_iter=5, tol=0.0, random_state=0)
    local = ContractiveAutoencoder(**kwargs).fit(X)
    with_empty = da.from_array(X, chunks=((100, 0, 100), (6,)))
    remote = ContractiveAutoencoder(**kwargs).fit(with_empty)
    assert_allclose(remote.loss_, local.loss_, rtol=1e-10)
    assert_allclose(remote.components_, local.components_, rtol=1e-8, atol=1e-10)
    assert_allclose(remote.score(with_empty), local.score(X), rtol=1e-12)
    assert_allclose(remote.score_samples(with_empty).compute(), local.score_samples(X), rtol=1e-12)
    one_row = da.from_array(X, chunks=((1, 99, 0, 100), (6,)))
    stopped = ContractiveAutoencoder(early_stopping=True, **kwargs).fit(one_row)
    assert len(stopped.validation_scores_) == stopped.n_iter_ == 5
    adam = ContractiveAutoencoder(solver="adam", **kwargs).fit(with_empty)
    assert adam.n_iter_ == 5 and np.isfinite(adam.loss_)
    # float32: Adam first checks that its sums cannot overflow, from X's extremes.
    adam32 = ContractiveAutoencoder(solver="adam", **kwargs).fit(with_empty.astype(np.float32))
    assert adam32.n_iter_ == 5 and np.isfinite(adam32.loss_)
    entropy = ContractiveAutoencoder(loss="cross_entropy", **kwargs)
    assert_allclose(entropy.fit(with_empty).loss_, entropy.fit(X).loss_, rtol=1e-10)


def test_score_samples_is_lazy_with_numpys_errors(client, X):
    cae = ContractiveAutoencoder(n_components=4, max_iter=5, loss="cross_entropy").fit(X)
    scores = cae.score_samples(to_dask(X))
    assert isinstance(scores, da.Array)
    assert scores.shape == (200,) and scores.chunks[0] == to_dask(X).chunks[0]
    assert_allclose(scores.compute(), cae.score_samples(X), rtol=1e-12)
    outside = X.copy()
    outside[120, 2] = 1.5
    assert error_message(cae.score_samples, to_dask(outside)) == error_message(
        cae.score_samples, outside
    )


def test_dataframe_and_series_get_pandas_errors(client, X):
    import dask.dataframe as dd
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]).astype("Float64")
    frame.iloc[150, 4] = pd.NA
    cae = ContractiveAutoencoder(n_components=3, max_iter=2)
    ddf = dd.from_pandas(frame, npartitions=4)
    assert "Input X contains NaN" in error_message(cae.fit, frame)
    assert error_message(cae.fit, ddf) == error_message(cae.fit, frame)
    assert "2-dimensional" in error_message(cae.fit, frame["f0"])
    assert error_message(cae.fit, ddf["f0"]) == error_message(cae.fit, frame["f0"])
    # Without the missing value, the nullable frame fits as the numpy array does.
    frame.iloc[150, 4] = X[150, 4]
    kwargs = dict(n_components=3, max_iter=3, tol=0.0, random_state=0)
    remote = ContractiveAutoencoder(**kwargs).fit(dd.from_pandas(frame, npartitions=4))
    assert_allclose(remote.loss_, ContractiveAutoencoder(**kwargs).fit(X).loss_, rtol=1e-10)


def _never_computed(block):
    raise RuntimeError("the data was computed")


def test_hessian_penalty_is_refused_before_any_work(client, X):
    X_lazy = to_dask(X).map_blocks(_never_computed, dtype=X.dtype)
    with dask.config.set(scheduler="synchronous"):  # any computation raises here, at once
        with pytest.raises(RuntimeError, match="the data was computed"):
            ContractiveAutoencoder(max_iter=1).fit(X_lazy)
        with pytest.raises(ValueError, match="hessian_penalty > 0 is not supported for dask"):
            ContractiveAutoencoder(hessian_penalty=0.1).fit(X_lazy)


def test_block_stream_shuffles_the_rows_inside_each_block(client, X):
    stream = dask_backend.BlockStream(
        to_dask(X).rechunk({1: -1}), 10, True, np.random.RandomState(0)
    )

    def orders():  # block -> the order its rows were visited in
        visited = {}
        for (i, rows), _ in stream.epoch():
            visited.setdefault(i, []).extend(np.arange(to_dask(X).chunks[0][i])[rows])
        return visited

    first, second = orders(), orders()
    for i, rows in first.items():
        assert sorted(rows) == sorted(second[i]) == list(range(len(rows)))
        assert rows != sorted(rows) and rows != second[i]


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("block_rows, fraction", [(1, 0.1), (5, 0.9)])
def test_early_stopping_on_small_blocks_holds_out_as_numpy_does(
    client, X, solver, block_rows, fraction
):
    # Each block used to hold out ceil(fraction * its rows): every row of
    # 1-row blocks, so no training row was left and the fit crashed.
    params = dict(n_components=3, max_iter=3, early_stopping=True, random_state=0)
    cae = ContractiveAutoencoder(**params, solver=solver, validation_fraction=fraction)
    cae.fit(da.from_array(X[:40], chunks=(block_rows, -1)))
    assert len(cae.validation_scores_) == cae.n_iter_ > 0
    train, val = dask_backend.split(
        da.from_array(X[:40], chunks=(block_rows, -1)), fraction, np.random.RandomState(0)
    )
    assert val.shape[0] == int(np.ceil(fraction * 40)) and train.shape[0] > 0  # numpy's counts


def test_early_stopping_without_training_rows_is_numpys_error(client, X):
    numpy_error = error_message(
        ContractiveAutoencoder(early_stopping=True, validation_fraction=0.9).fit, X[:1]
    )
    dask_error = error_message(
        ContractiveAutoencoder(early_stopping=True, validation_fraction=0.9).fit, to_dask(X[:1])
    )
    assert dask_error == numpy_error and "train set will be empty" in numpy_error
