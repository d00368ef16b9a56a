"""The activations of docs/user_guide/objective.rst written a second way, for the tests'
references: ``name -> (f, f', f'')``, each a function of the
pre-activations ``a`` alone, from ``scipy.special`` and numpy, sharing no
code with ``sklearn_cae._activations`` (whose derivatives reuse ``h``).

Accurate for moderate ``a`` (``|a| < 30``), which is all the tests use.
"""

import numpy as np
from scipy.special import expit, softplus


def _logistic_d1(a):
    return expit(a) * expit(-a)


def _sech2(a):
    return 1.0 / np.cosh(a) ** 2


REFERENCE_ACTIVATIONS = {
    # 1 - 2 sigmoid(a) = -tanh(a / 2)
    "logistic": (expit, _logistic_d1, lambda a: -_logistic_d1(a) * np.tanh(a / 2)),
    "tanh": (np.tanh, _sech2, lambda a: -2.0 * np.tanh(a) * _sech2(a)),
    "softplus": (softplus, expit, _logistic_d1),
    "relu": (
        lambda a: np.where(a > 0, a, 0.0),
        lambda a: np.where(a > 0, 1.0, 0.0),
        np.zeros_like,
    ),
    "identity": (lambda a: np.array(a, dtype=float), np.ones_like, np.zeros_like),
}
