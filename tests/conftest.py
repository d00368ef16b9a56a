import os
import sys

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
