"""
=====================================================
Anomaly detection by reconstruction error
=====================================================

A contractive autoencoder fitted on clean digits reconstructs digits like them
well and other images badly.
:meth:`~sklearn_cae.ContractiveAutoencoder.score_samples` returns minus each
sample's reconstruction loss, so low scores flag unusual samples. Here the test
set mixes held-out clean digits with corrupted ones (a random 3x3 patch of
each image replaced by noise); a threshold at the 5th percentile of the
training scores flags samples, and the ROC AUC says how well the score
separates the two groups without choosing a threshold, next to two
baselines fitted on the same clean digits: PCA's reconstruction error with as
many components as the CAE has units, and an ``IsolationForest``. The figure
shows the CAE's scores of both groups and, right, the three lowest-scoring
corrupted images.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_cae import ContractiveAutoencoder

X = load_digits().data / 16.0
X_train, X_clean = train_test_split(X, test_size=0.2, random_state=0)

rng = np.random.RandomState(0)
X_corrupted = X_clean.copy().reshape(-1, 8, 8)
for image in X_corrupted:
    row, col = rng.randint(0, 6, size=2)
    image[row : row + 3, col : col + 3] = rng.uniform(0, 1, (3, 3))
X_corrupted = X_corrupted.reshape(-1, 64)

cae = ContractiveAutoencoder(
    n_components=32, activation="softplus", loss="cross_entropy", random_state=0
).fit(X_train)

threshold = np.quantile(cae.score_samples(X_train), 0.05)
clean_scores = cae.score_samples(X_clean)
corrupted_scores = cae.score_samples(X_corrupted)
print(
    f"flagged: {np.mean(clean_scores < threshold):.1%} of clean test digits, "
    f"{np.mean(corrupted_scores < threshold):.1%} of corrupted ones"
)
labels = np.r_[np.zeros(len(clean_scores)), np.ones(len(corrupted_scores))]


def roc_auc(score_samples):
    """ROC AUC of a score (low: unusual) separating corrupted from clean."""
    return roc_auc_score(labels, -np.r_[score_samples(X_clean), score_samples(X_corrupted)])


pca = PCA(n_components=32, random_state=0).fit(X_train)
forest = IsolationForest(random_state=0).fit(X_train)
aucs = {
    "CAE, -score_samples": roc_auc(cae.score_samples),
    "PCA(32), minus reconstruction error": roc_auc(
        lambda X: -0.5 * np.sum((X - pca.inverse_transform(pca.transform(X))) ** 2, axis=1)
    ),
    "IsolationForest, score_samples": roc_auc(forest.score_samples),
}
for name, value in aucs.items():
    print(f"ROC AUC, {name}: {value:.3f}")
auc = aucs["CAE, -score_samples"]

# %%
fig, (hist_ax, *image_axes) = plt.subplots(
    1, 4, figsize=(10, 2.8), gridspec_kw={"width_ratios": [3, 1, 1, 1]}
)
bins = np.linspace(min(clean_scores.min(), corrupted_scores.min()), 0, 40)
hist_ax.hist(clean_scores, bins, alpha=0.6, label="clean")
hist_ax.hist(corrupted_scores, bins, alpha=0.6, label="corrupted")
hist_ax.axvline(threshold, color="k", linestyle="--", label="threshold")
hist_ax.set(xlabel="score_samples", ylabel="test images", title=f"ROC AUC {auc:.3f}")
hist_ax.legend()
for ax, index in zip(image_axes, np.argsort(corrupted_scores)[:3], strict=True):
    ax.imshow(X_corrupted[index].reshape(8, 8), cmap="gray_r")
    ax.set(xticks=[], yticks=[], title=f"score {corrupted_scores[index]:.1f}")
fig.tight_layout()
plt.show()
