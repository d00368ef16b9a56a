"""One table: activation name -> (f, f', f'').

Each entry is three small functions on arrays of pre-activations ``a``:

- ``f(a, out=None)`` returns ``h = f(a)``;
- ``df(a, h, out=None)`` returns ``f'(a)``, reusing ``h`` where that saves
  a transcendental function;
- ``d2f(a, h, d1, out=None)`` returns ``f''(a)``, reusing ``h`` and
  ``d1 = f'(a)``.

Every function writes into ``out`` when it is given (an array shaped like
``a``, distinct from the inputs), so the training loop reuses its buffers
(the softplus allocates one temporary). The derivatives reuse ``h``
and ``d1``: only the softplus's ``f'``, the logistic, computes another
exponential.

Every function is numerically stable for any finite input (no overflow
warnings): the logistic is ``1 / (1 + exp(-a))`` with the overflow of
``exp`` to ``inf`` (which gives the right limit, 0) silenced, and the
softplus is ``log1p(exp(-|a|)) + max(a, 0)``. Adding an activation is
adding a row to ``ACTIVATIONS``.
"""

import numpy as np


def _logistic(a, out=None):
    # Not scipy.special.expit: numpy's float32 exp is vectorised, and this is
    # as accurate: exp(-a) overflows to inf only where 1/(1+inf) = 0 is right.
    with np.errstate(over="ignore"):
        out = np.negative(a, out=out)
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _logistic_d1(a, h, out=None):
    out = np.multiply(h, h, out=out)
    return np.subtract(h, out, out=out)  # h (1 - h)


def _logistic_d2(a, h, d1, out=None):
    out = np.multiply(h, -2.0, out=out)
    out += 1.0
    out *= d1  # h (1 - h) (1 - 2 h)
    return out


def _tanh(a, out=None):
    return np.tanh(a, out=out)


def _tanh_d1(a, h, out=None):
    out = np.multiply(h, h, out=out)
    return np.subtract(1.0, out, out=out)


def _tanh_d2(a, h, d1, out=None):
    out = np.multiply(h, -2.0, out=out)
    out *= d1
    return out


def _softplus(a, out=None):
    # numpy's logaddexp(0, a) term by term, a + L for a > 0 and L otherwise
    # with L = log1p(exp(-|a|)), as max(a + L, L) (the same, rounding being
    # monotone), from numpy's vectorised exp and log1p (logaddexp's own loop
    # is not vectorised: it was the costliest step of an Adam minibatch).
    out = np.abs(a, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)  # L
    return np.maximum(a + out, out, out=out)


def _softplus_d1(a, h, out=None):
    return _logistic(a, out=out)


def _softplus_d2(a, h, d1, out=None):
    out = np.multiply(d1, d1, out=out)
    return np.subtract(d1, out, out=out)


def _relu(a, out=None):
    return np.maximum(a, 0.0, out=out)


def _relu_d1(a, h, out=None):
    return np.greater(a, 0.0, out=_buffer(a, out), casting="unsafe")


def _identity(a, out=None):
    return np.positive(a, out=out)  # a copy, never ``a`` itself


def _ones(a, h, out=None):
    out = _buffer(a, out)
    out.fill(1.0)
    return out


def _zeros(a, h, d1, out=None):
    out = _buffer(a, out)
    out.fill(0.0)
    return out


def _buffer(a, out):
    return np.empty_like(a) if out is None else out


#: activation -> (f, f', f'').
ACTIVATIONS = {
    "logistic": (_logistic, _logistic_d1, _logistic_d2),
    "tanh": (_tanh, _tanh_d1, _tanh_d2),
    "softplus": (_softplus, _softplus_d1, _softplus_d2),
    "relu": (_relu, _relu_d1, _zeros),
    "identity": (_identity, _ones, _zeros),
}

#: activation -> the bounds its codes saturate at (bounded activations only).
BOUNDS = {"logistic": (0.0, 1.0), "tanh": (-1.0, 1.0)}

#: activations whose second derivative is identically zero, so the penalty
#: sends no gradient through the pre-activations.
ZERO_CURVATURE = frozenset({"relu", "identity"})
