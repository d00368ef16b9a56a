"""One fit is a function of the rows' backend, the rows, the settings, the
starting point and the random state: what it returns is what the estimator
keeps."""

import numpy as np
import pytest

from sklearn_cae import ContractiveAutoencoder, _objective, _training
from sklearn_cae._backends import inprocess


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_the_outcome_is_what_the_estimator_keeps(solver):
    X = np.random.RandomState(0).uniform(0, 1, (120, 8))
    params = dict(n_components=4, max_iter=15, early_stopping=True, verbose=1)
    cae = ContractiveAutoencoder(**params, solver=solver, hessian_penalty=0.1, random_state=0)
    random_state = np.random.RandomState(0)
    theta = _objective.initial_theta(8, 4, "logistic", True, random_state)
    outcome = _training.fit(inprocess, X, cae._settings(), theta, random_state)
    cae.fit(X)
    np.testing.assert_array_equal(outcome.theta, _objective.pack(*cae._params(), True))
    assert outcome.loss == cae.loss_ and outcome.n_iter == cae.n_iter_
    assert outcome.loss_curve == cae.loss_curve_
    assert outcome.validation_scores == cae.validation_scores_
    assert outcome.corruption_seed == cae._corruption_seed
    assert outcome.summary.startswith(_training.SOLVERS[solver].name)
    assert (outcome.adam_state is None) == (solver == "lbfgs")
    np.testing.assert_array_equal(
        outcome.random_state.get_state()[1], cae._random_state.get_state()[1]
    )
