"""Issue 37's cases: unscaled data, casts of partial_fit, the library's own
checks and messages (the dask cases are in test_dask.py)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.preprocessing import StandardScaler

from sklearn_cae import ContractiveAutoencoder


@pytest.mark.parametrize("load", [load_breast_cancer, load_wine], ids=["breast_cancer", "wine"])
def test_unscaled_data_is_told_its_codes_saturated(load):
    X = load().data  # raw features, up to thousands
    with pytest.warns(UserWarning, match=r"saturated.*unscaled.*StandardScaler") as record:
        ContractiveAutoencoder(random_state=0).fit(X)
    assert record[0].filename == __file__  # at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same data scaled: silent
        ContractiveAutoencoder(random_state=0).fit(StandardScaler().fit_transform(X))


def test_a_cast_beyond_float32_names_the_cast():
    model = ContractiveAutoencoder(4, solver="adam", random_state=0)
    model.partial_fit(np.random.RandomState(0).uniform(0, 1, (50, 5)).astype(np.float32))
    chunk = np.random.RandomState(1).uniform(0, 1, (50, 5))
    chunk[3, 2] = 1e39  # finite in float64, beyond float32's range
    # No RuntimeWarning cascade either: the test configuration makes one an error.
    with pytest.raises(ValueError, match=r"casts each chunk to the model's dtype float32.*1e\+39"):
        model.partial_fit(chunk)
    assert model.components_.dtype == np.float32 and model.n_iter_ == 1


def test_adams_float32_check_warns_nothing_itself():
    X = load_digits().data[:200].astype(np.float32) / 16
    X[0, 0] = 1e18  # the check of float32 overflow must not overflow itself
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ContractiveAutoencoder(4, solver="adam", max_iter=2, random_state=0).fit(X)


def test_divergence_after_the_first_epoch_is_blamed_on_the_learning_rate():
    X = np.random.RandomState(0).uniform(0, 1, (40, 5)).astype(np.float32)
    model = ContractiveAutoencoder(
        4, solver="adam", loss="cross_entropy", learning_rate_init=1e38, random_state=0
    )
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(ValueError, match=r"epoch [2-9].*steps diverged.*learning_rate_init"):
            model.fit(X)


def test_reproducibility_is_promised_for_a_given_number_of_threads():
    doc = " ".join(ContractiveAutoencoder.__doc__.split())
    assert "bitwise identical for a given number of threads" in doc
