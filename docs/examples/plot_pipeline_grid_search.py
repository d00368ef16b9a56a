"""
=====================================================
Choosing ``contraction`` in a pipeline by grid search
=====================================================

A contractive autoencoder as the feature step of a classifier, its
``contraction`` chosen by the classifier's cross-validated accuracy (left
panel; the error bars are the standard deviation over the folds: differences
smaller than them are noise). The right panel shows why
a grid search on the autoencoder alone cannot choose it: its ``score`` is the
reconstruction, which the penalty costs, so there the smallest
``contraction`` scores best.

On a machine with several cores, give the grid search ``n_jobs=-1``: its
fits then run side by side, faster than with ``n_jobs=1`` (measured in
:ref:`cost`).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cae import ContractiveAutoencoder

# A small iteration budget keeps the example fast; L-BFGS says it stopped early.

X, y = load_digits(return_X_y=True)
X, y = X[:600] / 16.0, y[:600]  # pixels in [0, 1]

pipe = make_pipeline(
    ContractiveAutoencoder(
        n_components=32, activation="softplus", loss="cross_entropy", random_state=0
    ),
    StandardScaler(),
    LogisticRegression(max_iter=1000),
)
contractions = [0.0, 0.01, 0.1, 1.0]
grid = GridSearchCV(pipe, {"contractiveautoencoder__contraction": contractions}, cv=3)
grid.fit(X, y)
print("best contraction:", grid.best_params_["contractiveautoencoder__contraction"])
print(f"best cross-validated accuracy: {grid.best_score_:.3f}")

# %%
# The same grid on the autoencoder alone, ranked by its own ``score``:
# minus the mean reconstruction loss of the held-out fold.
alone = GridSearchCV(pipe[0], {"contraction": contractions}, cv=3).fit(X)
print("contraction chosen by the reconstruction score:", alone.best_params_["contraction"])

# %%
positions = np.arange(len(contractions))
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
left.errorbar(
    positions, grid.cv_results_["mean_test_score"], grid.cv_results_["std_test_score"], marker="o"
)
left.set(title="pipeline: CV accuracy", ylabel="accuracy")
right.plot(positions, alone.cv_results_["mean_test_score"], marker="o", color="C1")
right.set(title="autoencoder alone: CV score", ylabel="minus reconstruction loss")
for ax in (left, right):
    ax.set_xticks(positions, [f"{c:g}" for c in contractions])
    ax.set_xlabel("contraction")
fig.tight_layout()
plt.show()
