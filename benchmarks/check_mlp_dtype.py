"""In which dtype does MLPRegressor's L-BFGS fit compute on float32 data?

The objective benchmark compares our float32 fit with MLPRegressor's on the
same float32 data. This prints the dtypes MLPRegressor's forward pass sees
(its input, the layers' activations, its weights) at every evaluation of an
L-BFGS fit, and the dtype of the fitted ``coefs_``:

    PYTHONPATH=$PWD python benchmarks/check_mlp_dtype.py
"""

import warnings

import numpy as np
import scipy
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor


class RecordingMLP(MLPRegressor):
    def _forward_pass(self, activations):
        activations = super()._forward_pass(activations)
        arrays = [*activations, *self.coefs_, *self.intercepts_]
        self.dtypes_seen_.update(str(a.dtype) for a in arrays)
        return activations


def main():
    X = np.random.RandomState(0).rand(500, 20).astype(np.float32)
    mlp = RecordingMLP(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=5, random_state=0)
    mlp.dtypes_seen_ = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, X)
    print(f"scikit-learn {sklearn.__version__}, scipy {scipy.__version__}, numpy {np.__version__}")
    print(f"dtypes in the forward passes during fit: {sorted(mlp.dtypes_seen_)}")
    print(f"fitted coefs_ dtype: {mlp.coefs_[0].dtype}")


if __name__ == "__main__":
    main()
