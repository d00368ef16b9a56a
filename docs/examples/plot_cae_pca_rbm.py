"""
=====================================
CAE, PCA and RBM features on digits
=====================================

Three unsupervised feature extractors with the same number of features,
each followed by the same logistic regression, on scikit-learn's 8x8 digits
(pixels scaled to [0, 1]), one train/test split. The figure shows each
model's first filters (rows of ``components_``, red positive, blue negative)
with its test accuracy. The parameters are fixed, not tuned: tune them (and
the RBM's) with a grid search before drawing conclusions on your data.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cae import ContractiveAutoencoder

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

n_features = 32
models = {
    "PCA": PCA(n_components=n_features, random_state=0),
    "RBM": BernoulliRBM(n_components=n_features, learning_rate=0.06, n_iter=20, random_state=0),
    "CAE": ContractiveAutoencoder(
        n_components=n_features,
        activation="softplus",
        loss="cross_entropy",
        contraction=0.1,
        random_state=0,
    ),
}
accuracy = {}
for name, model in models.items():
    start = time.perf_counter()
    pipe = make_pipeline(model, StandardScaler(), LogisticRegression(max_iter=2000))
    pipe.fit(X_train, y_train)
    accuracy[name] = pipe.score(X_test, y_test)
    print(f"{name}: test accuracy {accuracy[name]:.3f}, fit {time.perf_counter() - start:.1f} s")

# %%
n_shown = 8
fig, axes = plt.subplots(3, n_shown, figsize=(8, 3.4))
for row, (name, model) in zip(axes, models.items(), strict=True):
    for j, ax in enumerate(row):
        image = model.components_[j].reshape(8, 8)
        limit = np.abs(image).max()
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(f"{name}\n{accuracy[name]:.3f}", rotation=0, ha="right", va="center")
fig.suptitle("first filters of each model, and its test accuracy")
plt.show()
