"""The frozen settings value: every parameter but the estimator's own, the
objective's weights as floats, never stored on the estimator."""

import dataclasses
import pickle

import numpy as np
import pytest

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae._settings import ESTIMATOR_ONLY, Settings


def test_settings_hold_every_parameter_but_the_estimators_own():
    cae = ContractiveAutoencoder(5, tied_weights=False, solver="adam", batch_size=7)
    settings = cae._settings()
    params = cae.get_params(deep=False)
    fields = {field.name for field in dataclasses.fields(Settings)}
    assert fields | ESTIMATOR_ONLY == (set(params) - {"tied_weights"}) | {"tied"}
    assert settings.tied is False and settings.batch_size == 7 and settings.solver == "adam"
    for name in fields - {"tied"}:
        assert getattr(settings, name) == params[name]


def test_the_objectives_weights_are_python_floats():
    cae = ContractiveAutoencoder(contraction=1, alpha=np.float32(0.5), hessian_penalty=2)
    settings = cae._settings()
    for name in ("contraction", "alpha", "hessian_penalty", "corruption_std"):
        assert type(getattr(settings, name)) is float
    assert settings.alpha == 0.5 and settings.contraction == 1.0


def test_settings_are_frozen_and_never_stored_on_the_estimator():
    settings = ContractiveAutoencoder()._settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.contraction = 1.0
    X = np.random.RandomState(0).uniform(0, 1, (40, 5))
    for solver in ("lbfgs", "adam"):
        cae = ContractiveAutoencoder(3, solver=solver, max_iter=2, random_state=0).fit(X)
        stored = pickle.dumps(vars(cae))
        assert b"Settings" not in stored
        assert not any(isinstance(value, Settings) for value in vars(cae).values())
