"""Default fits on the bundled datasets end by the stopping rule, silently."""

import warnings

import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.preprocessing import MinMaxScaler

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae.datasets import load_nudged_digits


def _nudged(n_rows=1000):
    X, _ = load_nudged_digits()
    return X[:n_rows]


@pytest.mark.parametrize(
    "load, params",
    [
        (lambda: load_iris().data, {}),
        (lambda: load_wine().data, {}),
        (lambda: load_breast_cancer().data, {}),
        (lambda: load_digits().data, {}),
        # The README's pipeline's autoencoder.
        (_nudged, {"activation": "softplus", "loss": "cross_entropy"}),
    ],
    ids=["iris", "wine", "breast_cancer", "digits", "nudged_digits_softplus_ce"],
)
def test_default_fit_ends_converged_without_a_warning(load, params):
    X = MinMaxScaler(clip=True).fit_transform(load())
    cae = ContractiveAutoencoder(random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning, no saturation warning
        cae.fit(X)
    # Stopped by the rule, well inside the budget (measured: 94-531 iterations).
    assert cae.n_iter_ < cae.max_iter
