"""Every place where rows live defines the same functions, with the same
parameters, and ``pick`` chooses the place from the rows themselves."""

import inspect

import array_api_strict
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
import torch

from sklearn_cae._backends import FUNCTIONS, array_api, dask, inprocess, pick

BACKENDS = [inprocess, dask, array_api]


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda module: module.__name__)
def test_every_backend_defines_every_function_with_the_same_parameters(backend):
    for name in FUNCTIONS:
        function = getattr(backend, name, None)
        assert callable(function), f"{backend.__name__} has no function {name}"
        parameters = list(inspect.signature(function).parameters)
        assert parameters == list(inspect.signature(getattr(inprocess, name)).parameters), name


def test_pick_chooses_by_where_the_rows_live():
    X = np.zeros((4, 3))
    assert pick(X) is inprocess
    assert pick(sp.csr_matrix(X)) is inprocess
    assert pick(X.tolist()) is inprocess
    assert pick(da.from_array(X, chunks=2)) is dask
    assert pick(dd.from_pandas(pd.DataFrame(X), npartitions=2)) is dask


def test_pick_chooses_array_api_rows_only_with_dispatch_on():
    X = np.zeros((4, 3))
    for rows in (torch.zeros((4, 3)), array_api_strict.asarray(X)):
        assert pick(rows) is inprocess  # dispatch off: scikit-learn converts them to numpy
        with sklearn.config_context(array_api_dispatch=True):
            assert pick(rows) is array_api
    with sklearn.config_context(array_api_dispatch=True):
        assert pick(X) is inprocess  # numpy keeps its threaded kernels
        assert pick(sp.csr_matrix(X)) is inprocess
        assert pick(X.tolist()) is inprocess
        assert pick(pd.DataFrame(X)) is inprocess
        assert pick(da.from_array(X, chunks=2)) is dask
