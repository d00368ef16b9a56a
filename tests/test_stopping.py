"""The default stopping rule is free of the data's scale: it stops where the
objective stopped improving relative to how much it improved, so fits of
small-scale objectives train on past their first plateau."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cae import ContractiveAutoencoder, _solvers
from sklearn_cae._backends import inprocess


def _stop(curve, scale, tol=1e-4, n_iter_no_change=10):
    """The iteration at which Progress stops on the objective ``curve`` of
    data whose baseline loss is ``scale``."""
    progress = _solvers.Progress(tol=tol, scale=scale, n_iter_no_change=n_iter_no_change)
    for J in curve:
        if progress.update(np.zeros(1), J):
            return progress.n_iter
    return None


def test_the_stall_rule_is_in_the_datas_units():
    # Fast progress, a slow steady descent, a second drop and a tail; the
    # same curve in other units (data scaled by 1e-3 or 1e3: the squared
    # error and the baseline scale alike), and shifted (the cross-entropy's
    # floor) stops at the same iteration.
    i = np.arange(600.0)
    slow = 0.5 * np.maximum(1 - i / 120, 0)
    curve = 1.0 + np.exp(-i / 5) + slow + 0.4 * np.exp(-np.maximum(i - 120, 0) / 60)
    stop = _stop(curve, scale=2.0)
    assert stop is not None and 300 < stop < 600  # in the tail, not at the slow part
    for units in (1e-6, 1e-3, 1e3):
        assert _stop(units * curve, scale=units * 2.0) == stop
    assert _stop(curve + 100.0, scale=2.0) == stop


def test_the_baseline_is_half_the_total_variance_in_any_layout():
    rng = np.random.RandomState(0)
    X = 1000.0 + rng.normal(size=(500, 7)) * rng.uniform(0.1, 3, 7)  # far from 0: no cancellation
    settings = ContractiveAutoencoder(working_memory=0.01)._settings()  # many chunks
    expected = 0.5 * X.var(axis=0).sum()
    assert inprocess.baseline_loss(X, settings) == pytest.approx(expected, rel=1e-12)
    assert inprocess.baseline_loss(0.01 * X, settings) == pytest.approx(1e-4 * expected, rel=1e-12)
    Xs = sp.csr_matrix(np.where(X > 1000.5, X, 0.0))
    dense = 0.5 * Xs.toarray().var(axis=0).sum()
    assert inprocess.baseline_loss(Xs, settings) == pytest.approx(dense, rel=1e-12)


def _small_digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0 * 0.01, y  # frequency-like data: the objective is about 2e-4


def test_tol_zero_runs_to_max_iter_and_warns():
    # scipy's own relative-reduction test stopped this fit after about 20
    # iterations whatever tol said; now only the parameters decide.
    X, _ = _small_digits()
    cae = ContractiveAutoencoder(tol=0.0, n_iter_no_change=1000, max_iter=60, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=60"):
        cae.fit(X)
    assert cae.n_iter_ == 60


def test_small_scale_data_trains_as_far_as_its_codes_gain():
    X, y = _small_digits()

    def codes_score(**params):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            cae = ContractiveAutoencoder(random_state=0, **params).fit(X)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        return cross_val_score(model, cae.transform(X), y, cv=3).mean()

    assert codes_score() >= codes_score(max_iter=300, tol=0.0, n_iter_no_change=1000) - 0.02


def _seed_data(seed, n=1500):
    """Data that varies along u1, with small noise along u2 and less elsewhere."""
    rng = np.random.RandomState(seed)
    q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    u1, u2 = q[:, 0], q[:, 1]
    t, e = rng.uniform(-1, 1, (n, 1)), rng.normal(size=(n, 1))
    X = 0.5 + 0.35 * t * u1 + 0.02 * e * u2 + 0.005 * rng.normal(size=(n, 10))
    return X, u1, u2


def _sensitivities(model, X, u1, u2):
    J = model.jacobian(X[:300])
    return np.linalg.norm(J @ u1, axis=1).mean(), np.linalg.norm(J @ u2, axis=1).mean()


def test_the_seed_picture_at_the_default_tol():
    # The lecture's picture: an overcomplete CAE becomes insensitive across the
    # data (u2) while staying sensitive along it (u1); a plain autoencoder does
    # not. The old absolute rule stopped both at the first plateau (median
    # ratio 0.25 of the plain autoencoder's here).
    across, along = [], []
    for seed in range(5):
        X, u1, u2 = _seed_data(seed)
        plain = ContractiveAutoencoder(30, contraction=0.0, random_state=0).fit(X)
        cae = ContractiveAutoencoder(30, contraction=0.03, random_state=0).fit(X)
        (p1, p2), (c1, c2) = _sensitivities(plain, X, u1, u2), _sensitivities(cae, X, u1, u2)
        across.append((c2 / c1) / (p2 / p1))
        along.append(c1 / p1)
    assert np.median(across) <= 0.2
    assert np.median(along) >= 0.2
