"""Early stopping, warm starts and progress output of ``fit``."""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from test_estimator import _objective_from_attributes

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae._backends import inprocess


def _data(n_samples=200, n_features=8, seed=0):
    return np.random.RandomState(seed).uniform(0, 1, (n_samples, n_features))


def _first_stop(scores, tol, n_iter_no_change):
    """The iteration (from 1) at which early stopping as documented stops:
    the first that ends ``n_iter_no_change`` consecutive iterations none of
    which improved on the best score before it by at least ``tol``; None
    if none does."""
    improved = [s >= max(scores[:i], default=-np.inf) + tol for i, s in enumerate(scores)]
    for stop in range(n_iter_no_change, len(scores) + 1):
        if not any(improved[stop - n_iter_no_change : stop]):
            return stop
    return None


# ------------------------------------------------------------ early stopping
def test_early_stopping_stops_and_restores_the_best_iterate(monkeypatch):
    split = inprocess.train_test_split
    parts = []

    def recording_split(*args, **kwargs):
        parts.append(split(*args, **kwargs))
        return parts[-1]

    monkeypatch.setattr(inprocess, "train_test_split", recording_split)
    X = _data()
    cae = ContractiveAutoencoder(
        n_components=4,
        contraction=0.0,
        early_stopping=True,
        n_iter_no_change=5,
        # Small enough that the validation score peaks before the stop (with
        # 3e-4, the default, it still rose, by less than tol, at the end).
        tol=1e-4,
        max_iter=1000,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it must stop early instead
        cae.fit(X)
    ((X_train, X_val),) = parts
    assert X_val.shape == (20, 8)  # validation_fraction=0.1

    scores = np.asarray(cae.validation_scores_)
    assert len(scores) == cae.n_iter_ == len(cae.loss_curve_) < 1000
    best = int(np.argmax(scores))
    assert cae.best_validation_score_ == scores[best]
    # Stopped as soon as n_iter_no_change scores in a row did not improve on
    # the best before them by at least tol (scikit-learn MLP's rule)...
    least = cae.tol * inprocess.baseline_loss(X_train, cae._settings())  # tol in the data's units
    assert cae.n_iter_ == _first_stop(scores, least, 5)
    # ...and returned the best iterate, not the last one: its validation
    # score, and loss_ is the objective there on the training part.
    assert best < cae.n_iter_ - 1
    assert cae.score(X_val) == pytest.approx(cae.best_validation_score_, rel=1e-12)
    assert cae.score(X_val) > scores[-1]
    assert cae.loss_ == pytest.approx(_objective_from_attributes(cae, X_train), rel=1e-10)
    assert cae.loss_ > cae.loss_curve_[-1]


def test_early_stopping_needs_improvements_of_at_least_tol(monkeypatch):
    # The validation score still rose at each of the last n_iter_no_change
    # iterations, but by less than tol times the data's baseline loss: the
    # fit stopped there. Stopping only once the score stops rising would
    # have gone on.
    split, parts = inprocess.train_test_split, []
    monkeypatch.setattr(
        inprocess, "train_test_split", lambda *a, **k: parts.append(split(*a, **k)) or parts[-1]
    )
    cae = ContractiveAutoencoder(
        n_components=4,
        contraction=0.0,
        early_stopping=True,
        n_iter_no_change=5,
        tol=3e-3,
        max_iter=1000,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cae.fit(_data())
    least = cae.tol * inprocess.baseline_loss(parts[0][0], cae._settings())
    scores = np.asarray(cae.validation_scores_)
    rises = np.diff(scores[-6:])
    assert np.all((0 < rises) & (rises < least))
    assert cae.n_iter_ == _first_stop(scores, least, 5)
    assert _first_stop(scores, 0.0, 5) is None  # a rule on rises alone would not stop yet


def test_validation_attributes_only_with_early_stopping():
    X = _data(50)
    cae = ContractiveAutoencoder(n_components=3, max_iter=5, random_state=0).fit(X)
    assert not hasattr(cae, "validation_scores_")
    assert not hasattr(cae, "best_validation_score_")
    cae = cae.set_params(early_stopping=True).fit(X)
    assert len(cae.validation_scores_) == cae.n_iter_
    assert cae.best_validation_score_ == max(cae.validation_scores_)


# --------------------------------------------------------------- warm start
def test_warm_start_continues_and_cold_start_repeats():
    X = _data(100)
    params = dict(n_components=4, max_iter=10, random_state=0)
    first = ContractiveAutoencoder(**params).fit(X)
    # Without warm_start, a second fit starts afresh: bitwise the same.
    cold = ContractiveAutoencoder(**params).fit(X)
    cold.fit(X)
    np.testing.assert_array_equal(cold.components_, first.components_)
    assert cold.loss_ == first.loss_
    # With it, the second fit starts where the first ended: its first
    # iterate is no worse than that end point, and 10 + 10 iterations get
    # further than 10.
    warm = ContractiveAutoencoder(warm_start=True, **params).fit(X)
    warm.fit(X)
    assert warm.loss_curve_[0] <= first.loss_
    assert warm.loss_ < first.loss_
    assert warm.n_iter_ == len(warm.loss_curve_) == 10  # this fit's iterations


def test_warm_start_along_a_contraction_path_and_when_untying():
    X = _data(100)
    cae = ContractiveAutoencoder(n_components=4, max_iter=20, warm_start=True, random_state=0)
    cae.fit(X)
    for contraction in [0.2, 0.4]:
        previous = cae.components_.copy()
        cae.set_params(contraction=contraction).fit(X)
        assert not np.array_equal(cae.components_, previous)
    # Untying starts the decoder from the encoder: the same objective (no
    # alpha), so the first iterate improves on where the tied fit ended.
    tied_loss = cae.loss_
    cae.set_params(tied_weights=False).fit(X)
    assert cae.loss_curve_[0] <= tied_loss
    assert cae.decoder_components_ is not cae.components_


def test_warm_start_rejects_changed_shapes():
    X = _data(60)
    cae = ContractiveAutoencoder(n_components=4, max_iter=3, warm_start=True).fit(X)
    with pytest.raises(ValueError, match="n_components=4, but n_components=3"):
        cae.set_params(n_components=3).fit(X)
    with pytest.raises(ValueError, match="X has 7 features"):
        cae.set_params(n_components=4).fit(X[:, :7])


# ----------------------------------------------------------------- progress
@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_prints_one_line_per_iteration_and_a_summary(capsys, early_stopping):
    X = _data(100)
    cae = ContractiveAutoencoder(
        n_components=4,
        alpha=0.5,
        hessian_penalty=0.5,
        max_iter=8,
        early_stopping=early_stopping,
        verbose=1,
        random_state=0,
    ).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == cae.n_iter_ + 1
    number = r"(-?[0-9.e+-]+)"
    pattern = (
        rf"Iteration (\d+): objective {number}, reconstruction {number}, penalty {number}, "
        rf"max\|grad\| {number}(?:, validation score {number})?, {number} s"
    )
    for i, line in enumerate(lines[:-1]):
        match = re.fullmatch(pattern, line)
        assert match, line
        it, objective, rec, penalty, grad_norm, score, _ = match.groups()
        assert int(it) == i + 1
        assert float(objective) == pytest.approx(cae.loss_curve_[i], abs=1e-8)
        assert float(rec) + float(penalty) == pytest.approx(float(objective), abs=3e-8)
        assert float(penalty) > 0 and float(grad_norm) > 0
        assert (score is not None) == early_stopping
        if early_stopping:
            assert float(score) == pytest.approx(cae.validation_scores_[i], abs=1e-8)
    assert lines[-1].startswith(f"L-BFGS stopped after {cae.n_iter_} iterations")
    assert f"objective {cae.loss_:.8f}" in lines[-1]


def test_verbose_zero_prints_nothing(capsys):
    ContractiveAutoencoder(n_components=3, max_iter=5, early_stopping=True).fit(_data(50))
    assert capsys.readouterr().out == ""
