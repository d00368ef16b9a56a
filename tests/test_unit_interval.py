"""loss="cross_entropy" takes MinMaxScaler's output: values within a few
rounding errors of [0, 1] are accepted and clipped, real violations are not."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_cae import ContractiveAutoencoder


def _wine():
    # Without rows 107-142, MinMaxScaler's largest output is
    # 1.0000000000000004 (two machine epsilons above 1).
    return np.delete(load_wine().data, np.s_[107:143], axis=0)


def _cae(**params):
    return ContractiveAutoencoder(3, loss="cross_entropy", max_iter=5, random_state=0, **params)


def test_minmax_scaled_wine_is_accepted():
    X = MinMaxScaler().fit_transform(_wine())
    assert X.max() == 1 + 2 * np.finfo(np.float64).eps  # what the test is about
    model = _cae().fit(X)
    assert np.isfinite(model.loss_) and np.isfinite(model.score(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
def test_rounding_overshoot_is_clipped_for_the_loss(dtype, sparse):
    eps = np.finfo(dtype).eps
    X = np.random.RandomState(0).uniform(0, 1, (40, 5)).astype(dtype)
    X[0, 0], X[1, 1], X[2, 2] = 1, 0, 1  # [0, 1] exactly
    over = X.copy()
    over[0, 0], over[2, 2] = 1 + 4 * eps, 1 + eps
    if not sparse:  # a sparse matrix has no stored value just below 0
        over[1, 1] = -4 * eps
    convert = sp.csr_matrix if sparse else np.asarray
    clipped = _cae().fit(convert(X))
    model = _cae().fit(convert(over))
    # The objective saw the clipped values: the same fit, bit for bit.
    np.testing.assert_array_equal(model.components_, clipped.components_)
    assert model.loss_ == clipped.loss_
    assert model.score(convert(over)) == clipped.score(convert(X))
    assert over[0, 0] > 1  # the caller's data is left alone


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("value", [1 + 1e-6, -1e-6, 1.5, -0.5])
def test_real_violations_are_errors_that_show_the_values(dtype, value):
    X = np.random.RandomState(0).uniform(0, 1, (20, 4)).astype(dtype)
    fitted = _cae().fit(X)
    X[3, 2] = value
    shown = re.escape(f"{X[3, 2]:.17g}")
    with pytest.raises(ValueError, match=rf"cross_entropy.*\[0, 1\].*{shown}"):
        _cae().fit(X)
    with pytest.raises(ValueError, match=rf"cross_entropy.*\[0, 1\].*{shown}"):
        fitted.score(X)


def test_grid_search_over_minmax_scaler_and_cae_scores_every_split():
    X = _wine()
    # Every feature's smallest and largest rows stay in the training part, so
    # each test part is inside the training range: only rounding takes the
    # scaled values out of [0, 1].
    extremes = np.unique(np.r_[X.argmin(axis=0), X.argmax(axis=0)])
    rest = np.setdiff1d(np.arange(len(X)), extremes)
    cv = [(np.r_[extremes, rest[train]], rest[test]) for train, test in KFold(3).split(rest)]
    pipe = make_pipeline(MinMaxScaler(), _cae())
    grid = GridSearchCV(pipe, {"contractiveautoencoder__contraction": [0.0, 0.1]}, cv=cv)
    scores = grid.fit(X).cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))


def test_new_data_outside_the_training_range_is_told_to_clip():
    # Min-max scaled on the training part, test rows can fall outside [0, 1]:
    # the advice is the scaler's clip=True, which the pipeline then needs.
    X = np.random.RandomState(0).uniform(0, 10, (60, 4))
    model = make_pipeline(MinMaxScaler(), _cae()).fit(X[:40])
    with pytest.raises(ValueError, match=re.escape("MinMaxScaler(clip=True)")):
        model.score(X[40:] * 1.5)
    clipped = make_pipeline(MinMaxScaler(clip=True), _cae()).fit(X[:40])
    assert np.isfinite(clipped.score(X[40:] * 1.5))
