"""
=====================================
Tangents of the learned manifold
=====================================

Points on a noisy circle in 2-D. A contractive autoencoder with more units than
inputs learns codes that follow the circle and ignore the noise across it.
:meth:`~sklearn_cae.ContractiveAutoencoder.tangents` returns, at each point,
the input direction the codes are most sensitive to (the leading right-singular
vector of the encoder's Jacobian): drawn as segments, they should lie along the
circle. The printed number is the mean :math:`|\\cos|` of the angle between each
learned tangent and the circle's true tangent (1 is perfect alignment).
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_cae import ContractiveAutoencoder

rng = np.random.RandomState(0)
angle = rng.uniform(0, 2 * np.pi, 500)
radius = 1 + 0.03 * rng.randn(500)
X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])

cae = ContractiveAutoencoder(
    n_components=16, activation="tanh", contraction=0.01, random_state=0
).fit(X)

shown = X[::10]
directions, singular_values = cae.tangents(shown, n_directions=1)
tangent = directions[:, 0]  # (n_shown, 2), unit vectors
angle_shown = np.arctan2(shown[:, 1], shown[:, 0])
true_tangent = np.column_stack([-np.sin(angle_shown), np.cos(angle_shown)])
print(f"mean |cos| to the true tangent: {np.mean(np.abs(np.sum(tangent * true_tangent, 1))):.3f}")

# %%
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(*X.T, s=3, color="0.7", label="training data")
segments = 0.15 * tangent
for point, segment in zip(shown, segments, strict=True):
    ax.plot(*np.column_stack([point - segment, point + segment]), color="C3")
ax.plot([], [], color="C3", label="learned tangent")
ax.set(aspect="equal", title="leading tangent of the CAE at each point")
ax.legend(loc="center")
plt.show()
