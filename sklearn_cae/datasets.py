"""The nudged digits of scikit-learn's RBM example: the demo
(``python -m sklearn_cae``) uses a random subset of them,
``benchmarks/bench_digits.py`` all of them."""

import numpy as np
from scipy.ndimage import shift
from sklearn.datasets import load_digits
from sklearn.preprocessing import minmax_scale

# One-pixel moves of the 8x8 image: up, left, right, down (row, column).
_MOVES = ((-1, 0), (0, -1), (0, 1), (1, 0))


def load_nudged_digits():
    """Digits nudged by one pixel in four directions, scaled to [0, 1].

    The data of scikit-learn's example "Restricted Boltzmann Machine
    features for digit classification": the 1797 8x8 digits followed by
    four copies moved one pixel up, left, right and down (pixels moved in
    from outside the image are 0), five times the data, then each column
    scaled to ``[0, 1]`` with :func:`~sklearn.preprocessing.minmax_scale`.

    Returns
    -------
    X : ndarray of shape (8985, 64), float32
        Pixels in ``[0, 1]``.

    y : ndarray of shape (8985,)
        Digit labels.

    Examples
    --------
    >>> from sklearn_cae.datasets import load_nudged_digits
    >>> X, y = load_nudged_digits()
    >>> X.shape, float(X.min()), float(X.max())
    ((8985, 64), 0.0, 1.0)
    """
    X, y = load_digits(return_X_y=True)
    images = X.astype(np.float32).reshape(-1, 8, 8)
    moved = [shift(images, (0, *move), order=0, mode="constant") for move in _MOVES]
    X = np.concatenate([images, *moved]).reshape(-1, 64)
    return minmax_scale(X, feature_range=(0, 1)), np.tile(y, len(_MOVES) + 1)
