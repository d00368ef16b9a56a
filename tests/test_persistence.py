"""Saving and loading fitted models: skops.io (no code runs on load) and joblib."""

import joblib
import numpy as np
import pytest
import skops.io as sio

from sklearn_cae import ContractiveAutoencoder

# The types README.md tells users to trust: only the estimator's own class
# (its attributes are numpy arrays and builtins, which skops trusts).
TRUSTED = ["sklearn_cae._cae.ContractiveAutoencoder"]


@pytest.fixture(params=[{}, {"tied_weights": False, "early_stopping": True}])
def fitted(request):
    X = np.random.RandomState(0).uniform(0, 1, (40, 6)).astype(np.float32)
    cae = ContractiveAutoencoder(n_components=3, max_iter=10, random_state=0, **request.param)
    return cae.fit(X), X


def test_skops_round_trip(fitted, tmp_path):
    cae, X = fitted
    path = tmp_path / "cae.skops"
    sio.dump(cae, path)
    assert sio.get_untrusted_types(file=path) == TRUSTED
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)  # nothing is trusted unless said so
    restored = sio.load(path, trusted=TRUSTED)
    np.testing.assert_array_equal(restored.transform(X), cae.transform(X))
    np.testing.assert_array_equal(
        restored.inverse_transform(cae.transform(X)), cae.inverse_transform(cae.transform(X))
    )
    assert restored.get_params() == cae.get_params()
    assert restored.loss_ == cae.loss_


def test_joblib_round_trip(fitted, tmp_path):
    cae, X = fitted
    joblib.dump(cae, tmp_path / "cae.joblib")
    restored = joblib.load(tmp_path / "cae.joblib")
    np.testing.assert_array_equal(restored.transform(X), cae.transform(X))
    assert restored.score(X) == cae.score(X)
