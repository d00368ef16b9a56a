import os
import sys

import pytest

# scikit-learn's check_array_api_input (run by parametrize_with_checks) only
# runs when SciPy's array API support is on, which SciPy reads once, at
# import: switch it on before anything imports SciPy, so the check runs
# instead of being skipped.
if "scipy" in sys.modules and os.environ.get("SCIPY_ARRAY_API") != "1":
    raise RuntimeError("SciPy was imported before tests/conftest.py could set SCIPY_ARRAY_API=1")
os.environ["SCIPY_ARRAY_API"] = "1"


def pytest_configure(config):
    # Tests fit with small iteration budgets on purpose; the warning itself is
    # tested with pytest.warns in test_estimator.py. Added here rather than in
    # pyproject.toml because naming the category there imports scikit-learn,
    # and so SciPy, before the line above runs.
    config.addinivalue_line("filterwarnings", "ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def interrupt_at(monkeypatch):
    """``interrupt_at(n)``: the n-th objective evaluation from now is
    interrupted by a timer thread calling ``_thread.interrupt_main``, as
    Ctrl-C would (the interrupt lands in the main thread, which runs fit)."""
    import _thread
    import threading

    from sklearn_cae import _objective

    def interrupt_at(n):
        original = _objective.loss_and_grad
        calls = []

        def loss_and_grad(theta, X, **kwargs):
            calls.append(1)
            if len(calls) == n:
                timer = threading.Timer(0.0, _thread.interrupt_main)
                timer.start()
                timer.join()
                for _ in range(1000):  # the interrupt lands in this loop
                    pass
            return original(theta, X, **kwargs)

        monkeypatch.setattr(_objective, "loss_and_grad", loss_and_grad)

    return interrupt_at


@pytest.fixture(params=["array_api_strict", "torch", "torch-cuda"])
def xp(request):
    """An Array API namespace of real arrays, with scikit-learn's
    ``array_api_dispatch`` on: ``array_api_strict``'s, PyTorch's on the CPU,
    and PyTorch's on a CUDA GPU where there is one (its new tensors made
    there; skipped elsewhere)."""
    import importlib

    import sklearn

    name, _, device = request.param.partition("-")
    module = importlib.import_module(name)
    if device and not module.cuda.is_available():
        pytest.skip("no CUDA GPU here")
    with sklearn.config_context(array_api_dispatch=True):
        if not device:
            yield module
            return
        module.set_default_device(device)
        try:
            yield module
        finally:
            module.set_default_device("cpu")


@pytest.fixture
def dispatch():
    """scikit-learn's ``array_api_dispatch`` on."""
    import sklearn

    with sklearn.config_context(array_api_dispatch=True):
        yield
