"""One table: activation name -> (f, f', f'').

Each entry is three small functions on arrays of pre-activations ``a``:

- ``f(a)`` returns ``h = f(a)``;
- ``df(a, h)`` returns ``f'(a)``, reusing ``h`` where that saves a
  transcendental function;
- ``d2f(a, h, d1)`` returns ``f''(a)``, reusing ``h`` and ``d1 = f'(a)``.

Every function is numerically stable for any finite input (no overflow
warnings): the logistic uses ``scipy.special.expit`` and the softplus
``np.logaddexp``. Adding an activation is adding a row to ``ACTIVATIONS``.
"""

import numpy as np
from scipy.special import expit


def _logistic(a):
    return expit(a)


def _logistic_d1(a, h):
    return h * (1.0 - h)


def _logistic_d2(a, h, d1):
    return d1 * (1.0 - 2.0 * h)


def _tanh(a):
    return np.tanh(a)


def _tanh_d1(a, h):
    return 1.0 - h * h


def _tanh_d2(a, h, d1):
    return -2.0 * h * d1


def _softplus(a):
    return np.logaddexp(0.0, a).astype(a.dtype, copy=False)


def _softplus_d1(a, h):
    return expit(a)


def _softplus_d2(a, h, d1):
    return d1 * (1.0 - d1)


def _relu(a):
    return np.maximum(a, 0.0)


def _relu_d1(a, h):
    return (a > 0).astype(a.dtype)


def _identity(a):
    return a.copy()


def _ones(a, h):
    return np.ones_like(a)


def _zeros(a, h, d1):
    return np.zeros_like(a)


#: activation -> (f, f', f''); ``has_curvature`` is False where f'' == 0.
ACTIVATIONS = {
    "logistic": (_logistic, _logistic_d1, _logistic_d2),
    "tanh": (_tanh, _tanh_d1, _tanh_d2),
    "softplus": (_softplus, _softplus_d1, _softplus_d2),
    "relu": (_relu, _relu_d1, _zeros),
    "identity": (_identity, _ones, _zeros),
}

#: activations whose second derivative is identically zero, so the penalty
#: sends no gradient through the pre-activations.
ZERO_CURVATURE = frozenset({"relu", "identity"})
