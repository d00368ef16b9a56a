"""The estimator on Array API input (the ``xp`` fixture: real
``array_api_strict`` arrays and PyTorch CPU tensors, ``array_api_dispatch``
on): it fits, transforms and scores where the rows are, as on numpy."""

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
import skops.io as sio
import torch
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._array_api import device, get_namespace, move_estimator_to

from sklearn_cae import ContractiveAutoencoder, diagnostics
from sklearn_cae._backends import array_api

ATTRIBUTES = ["components_", "intercept_hidden_", "decoder_components_", "intercept_visible_"]


def data(n_samples=60, n_features=5, seed=0):
    rng = np.random.RandomState(seed)
    t = rng.normal(size=(n_samples, 2))
    return t @ rng.normal(size=(2, n_features)) + 0.05 * rng.normal(size=(n_samples, n_features))


def numpy_of(a):
    return array_api.to_numpy(a)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="lbfgs", max_iter=3000, tol=0.0),
        dict(solver="adam", max_iter=40, batch_size=16, learning_rate_init=0.01),
        dict(
            solver="lbfgs",
            max_iter=3000,
            tol=0.0,
            loss="cross_entropy",
            activation="logistic",
            tied_weights=False,
            alpha=0.1,
        ),
    ],
    ids=["lbfgs", "adam", "lbfgs-cross-entropy"],
)
def test_fit_reaches_numpy_objective(xp, params):
    X = data()
    if params.get("loss") == "cross_entropy":
        X = 1 / (1 + np.exp(-X))
    model = dict(n_components=3, activation="tanh", contraction=0.2, random_state=0) | params
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with sklearn.config_context(array_api_dispatch=False):
            on_numpy = ContractiveAutoencoder(**model).fit(X)
        on_device = ContractiveAutoencoder(**model).fit(xp.asarray(X))
    assert_allclose(on_device.loss_, on_numpy.loss_, rtol=1e-8)
    # loss_ is the objective at the returned parameters
    fun = array_api.full_objective(xp.asarray(X), on_device._settings(), gradient=False)[0]
    theta = array_api._pack(*on_device._params(), on_device.tied_weights, xp)
    assert fun(theta)[0] == pytest.approx(on_device.loss_, rel=1e-12)


def test_adam_is_deterministic_on_a_device(xp):
    X = xp.asarray(data(80).astype(np.float32))
    model = dict(n_components=4, solver="adam", batch_size=16, max_iter=5, random_state=0)
    first = ContractiveAutoencoder(**model).fit(X)
    second = ContractiveAutoencoder(**model).fit(X)
    for name in ATTRIBUTES:
        np.testing.assert_array_equal(
            numpy_of(getattr(first, name)), numpy_of(getattr(second, name))
        )
    assert first.loss_curve_ == second.loss_curve_


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_attributes_and_outputs_live_where_X_is(xp, solver, dtype):
    X = xp.asarray(data().astype(dtype))
    where, dtype = device(X), getattr(xp, dtype)
    model = ContractiveAutoencoder(n_components=3, solver=solver, max_iter=5, random_state=0)
    H = model.fit_transform(X)
    outputs = [H, model.inverse_transform(H), model.score_samples(X), model.jacobian(X)]
    for array in [getattr(model, name) for name in ATTRIBUTES] + outputs:
        assert get_namespace(array)[0] is get_namespace(X)[0]
        assert device(array) == where and array.dtype == dtype
    assert type(model.score(X)) is float and type(model.loss_) is float
    assert all(type(value) is float for value in model.loss_curve_)
    # tangents run on the host: numpy out
    tangents, values = model.tangents(X, 2)
    assert isinstance(tangents, np.ndarray) and tangents.shape == (60, 2, 5)


def test_partial_fit_streams_chunks_on_the_device(xp):
    X = data(90)
    model = dict(n_components=3, solver="adam", batch_size=10, random_state=0)
    on_numpy, on_device = ContractiveAutoencoder(**model), ContractiveAutoencoder(**model)
    for chunk in np.array_split(X, 3):
        with sklearn.config_context(array_api_dispatch=False):
            on_numpy.partial_fit(chunk)
        on_device.partial_fit(xp.asarray(chunk))
    assert on_device.n_iter_ == 3
    assert_allclose(numpy_of(on_device.components_), on_numpy.components_, rtol=1e-10)
    assert_allclose(on_device.loss_, on_numpy.loss_, rtol=1e-10)
    # a later float32 chunk is cast to the model's float64
    on_device.partial_fit(xp.asarray(X[:20].astype(np.float32)))
    assert on_device.components_.dtype == xp.float64


def test_early_stopping_and_cae_h_on_the_device(xp):
    X = data(100)
    model = dict(  # Adam: the same steps as on numpy
        n_components=3,
        solver="adam",
        early_stopping=True,
        hessian_penalty=0.3,
        max_iter=15,
        random_state=0,
    )
    with sklearn.config_context(array_api_dispatch=False):
        on_numpy = ContractiveAutoencoder(**model).fit(X)
    on_device = ContractiveAutoencoder(**model).fit(xp.asarray(X))
    assert_allclose(on_device.validation_scores_, on_numpy.validation_scores_, rtol=1e-9)
    assert on_device._corruption_seed == on_numpy._corruption_seed


def test_endings_as_on_numpy(xp):
    X = xp.asarray(data())
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        ContractiveAutoencoder(n_components=3, max_iter=2, random_state=0).fit(X)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        ContractiveAutoencoder(n_components=3, solver="adam", max_iter=2).fit(X)
    # float32 squares beyond float32's range (their sums are float64 on a device)
    huge = xp.asarray(np.full((20, 3), 1e20, dtype=np.float32))
    for solver in ("lbfgs", "adam"):
        with pytest.raises(ValueError, match="The objective is inf .* overflowed"):
            ContractiveAutoencoder(n_components=2, solver=solver, max_iter=3).fit(huge)


def test_interrupt_keeps_the_last_iterate(xp, monkeypatch):
    X = xp.asarray(data())
    evaluate, calls = array_api.evaluate, []

    def interrupted_at_the_fifth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(array_api, "evaluate", interrupted_at_the_fifth)
    with pytest.warns(UserWarning, match="interrupted"):
        model = ContractiveAutoencoder(n_components=3, max_iter=50, random_state=0).fit(X)
    # the last iterate, whose objective is loss_ (its evaluation remembered, not redone)
    assert model.n_iter_ >= 1 and len(calls) == 5
    assert model.loss_ == model.loss_curve_[-1]


def test_other_namespace_or_dispatch_off_gets_a_clear_error(xp):
    X = data()
    model = ContractiveAutoencoder(n_components=3, max_iter=3).fit(xp.asarray(X))
    for method in ("transform", "score", "score_samples", "jacobian", "partial_fit"):
        if method == "partial_fit":
            model.set_params(solver="adam")
        with pytest.raises(ValueError, match="must use the same namespace"):
            getattr(model, method)(X)
    with sklearn.config_context(array_api_dispatch=False):
        with pytest.raises(ValueError, match="move the model to numpy"):
            model.transform(X)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_pickle_joblib_and_skops_load_a_device_model_where_it_was(xp, solver, tmp_path):
    X = xp.asarray(data())
    model = ContractiveAutoencoder(n_components=3, solver=solver, max_iter=3).fit(X)
    codes = model.transform(X)
    path, trusted = tmp_path / "cae.skops", ["sklearn_cae._cae.ContractiveAutoencoder"]
    sio.dump(model, path)
    # the file holds numpy arrays: only the estimator's class needs trusting
    assert sio.get_untrusted_types(file=path) == trusted
    loaded = [pickle.loads(pickle.dumps(model)), sio.load(path, trusted=trusted)]
    joblib.dump(model, tmp_path / "cae.joblib")
    loaded.append(joblib.load(tmp_path / "cae.joblib"))
    for restored in loaded:
        for name in ATTRIBUTES:
            assert get_namespace(getattr(restored, name))[0] is get_namespace(X)[0]
            assert device(getattr(restored, name)) == device(X)
        np.testing.assert_array_equal(numpy_of(restored.transform(X)), numpy_of(codes))
        if solver == "adam":
            restored.partial_fit(X)  # Adam trains on from its moments, on the device


def test_a_model_saved_on_a_device_this_machine_lacks_gets_a_clear_error():
    with sklearn.config_context(array_api_dispatch=True):
        model = ContractiveAutoencoder(n_components=3, max_iter=3).fit(torch.asarray(data()))
    state = model.__getstate__()
    namespace, _ = state[array_api.PLACE]
    state[array_api.PLACE] = (namespace, "cuda:7")  # as saved on a machine with 8 GPUs
    if torch.cuda.device_count() > 7:
        pytest.skip("this machine has the device")
    with pytest.raises(ValueError, match="saved with its arrays on device 'cuda:7'"):
        ContractiveAutoencoder.__new__(ContractiveAutoencoder).__setstate__(state)


def test_moving_a_device_model_to_numpy_and_back():
    X = torch.asarray(data())
    with sklearn.config_context(array_api_dispatch=True):
        model = ContractiveAutoencoder(n_components=3, solver="adam", max_iter=3).fit(X)
        codes = model.transform(X)
        # what a machine without the GPU gets: the model moved to numpy on the machine
        # that fitted it (the user guide's "GPUs")
        on_numpy = move_estimator_to(model, np, "cpu")
    assert isinstance(on_numpy.components_, np.ndarray)
    assert isinstance(on_numpy._adam_state["m"], np.ndarray)
    on_numpy = pickle.loads(pickle.dumps(on_numpy))
    # the numpy kernels' logistic: the same to an ulp, not bitwise
    assert_allclose(on_numpy.transform(data()), codes.numpy(), rtol=1e-14)
    on_numpy.partial_fit(data())  # Adam trains on from its moments
    with sklearn.config_context(array_api_dispatch=True):
        back = move_estimator_to(on_numpy, get_namespace(X)[0], device(X))
        assert isinstance(back.transform(X), torch.Tensor)


def test_tangents_and_diagnostics_run_on_the_host_in_numpy(xp):
    X = data(40)
    model = dict(n_components=3, activation="tanh", max_iter=20, random_state=0)
    on_device = ContractiveAutoencoder(**model).fit(xp.asarray(X))
    on_numpy = move_estimator_to(on_device, np, "cpu")  # the same model
    tangents = on_device.tangents(xp.asarray(X), 2), on_numpy.tangents(X, 2)
    for got, expected in zip(*tangents, strict=True):
        assert isinstance(got, np.ndarray)
        assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    u = np.ones(5) / 5**0.5
    calls = {
        "mean_jacobian_norm": lambda model, X: diagnostics.mean_jacobian_norm(model, X),
        "jacobian_spectrum": lambda model, X: diagnostics.jacobian_spectrum(model, X),
        "directional_sensitivity": lambda m, X: diagnostics.directional_sensitivity(m, X, u),
        "saturation_fraction": lambda model, X: diagnostics.saturation_fraction(model, X),
        "contraction_ratio": lambda model, X: diagnostics.contraction_ratio(
            model, X, [0.1, 1.0], random_state=0
        ),
    }
    for name, call in calls.items():
        got = call(on_device, xp.asarray(X))
        with sklearn.config_context(array_api_dispatch=False):
            expected = call(on_numpy, X)
        assert_allclose(got, expected, rtol=1e-7, atol=1e-12, err_msg=name)


def test_bench_gpu_runs_on_a_cpu():
    """benchmarks/bench_gpu.py, at a small size on the CPU (on a GPU it runs at
    60,000 x 784, k=1000): every row of its table."""
    root = Path(__file__).parents[1]
    command = [sys.executable, "benchmarks/bench_gpu.py", "--device", "cpu", "--rows", "300"]
    command += ["--components", "20", "--batch-sizes", "64", "--repeats", "1"]
    env = dict(os.environ, PYTHONPATH=str(root))
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    for dtype in ("float32", "float64"):
        for row in ("evaluation", "Adam epoch, batch 64", "L-BFGS iteration"):
            assert f"| {dtype} | {row}, s |" in result.stdout


def test_the_package_imports_pytorch_only_for_pytorch_input():
    script = (
        "import os, sys; os.environ['SCIPY_ARRAY_API'] = '1'\n"
        "import numpy as np, sklearn, pickle\n"
        "from sklearn_cae import ContractiveAutoencoder\n"
        "with sklearn.config_context(array_api_dispatch=True):\n"
        "    model = ContractiveAutoencoder(n_components=2, max_iter=2).fit(np.eye(4))\n"
        "    pickle.loads(pickle.dumps(model)).score(np.eye(4))\n"
        "assert 'torch' not in sys.modules and 'array_api_strict' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_pipeline_and_grid_search_on_a_device(dispatch):
    # PyTorch: scikit-learn's StandardScaler warns from numpy on array_api_strict's arrays
    X = torch.asarray(data(90))
    model = ContractiveAutoencoder(n_components=3, max_iter=20, random_state=0)
    pipeline = make_pipeline(StandardScaler(), model).fit(X)
    assert get_namespace(pipeline.transform(X))[0] is get_namespace(X)[0]
    search = GridSearchCV(model, {"contraction": [0.01, 0.1]}, cv=3).fit(X)
    assert get_namespace(search.best_estimator_.components_)[0] is get_namespace(X)[0]
    assert all(np.isfinite(search.cv_results_["mean_test_score"]))
