"""
===============================================
Sensitivity along and across the data
===============================================

The picture behind the contractive penalty. The data are 2-D points spread
along a direction :math:`u_1` with small noise along :math:`u_2`. An
overcomplete autoencoder (8 hidden units for 2 inputs) trained on
reconstruction alone (``contraction=0``) can follow the input in every
direction. As ``contraction`` grows, the codes stay sensitive along the data
and become insensitive across it: the mean :math:`\\|J(x) u\\|`, how much the
codes move when the input moves along a unit direction :math:`u`, falls far
more across the data than along it.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae.diagnostics import directional_sensitivity

rng = np.random.RandomState(0)
u1 = np.array([1.0, 1.0]) / np.sqrt(2)
u2 = np.array([1.0, -1.0]) / np.sqrt(2)
X = 0.5 + np.outer(rng.uniform(-0.5, 0.5, 300), u1) + np.outer(0.02 * rng.randn(300), u2)

contractions = [0.0, 0.001, 0.01, 0.1, 0.3]
along, across = [], []
for contraction in contractions:
    # Converged models (tol=1e-7): at the default tol the plain autoencoder
    # stops short of the identity it converges to.
    cae = ContractiveAutoencoder(
        n_components=8, contraction=contraction, tol=1e-7, max_iter=2000, random_state=0
    ).fit(X)
    along.append(directional_sensitivity(cae, X, u1))
    across.append(directional_sensitivity(cae, X, u2))
    print(f"contraction={contraction:<6g} along {along[-1]:.4f}  across {across[-1]:.4f}")

# %%
positions = np.arange(len(contractions))
fig, (data_ax, ax) = plt.subplots(1, 2, figsize=(9, 3.5))
data_ax.scatter(*X.T, s=4)
for u, name, ha in [(u1, "$u_1$ (along)", "right"), (u2, "$u_2$ (across)", "left")]:
    data_ax.annotate("", 0.5 + 0.3 * u, (0.5, 0.5), arrowprops={"arrowstyle": "->"})
    data_ax.text(*(0.5 + 0.3 * u), name, ha=ha, va="bottom")
data_ax.set(title="training data", aspect="equal")
ax.plot(positions, along, marker="o", label=r"$\|J u_1\|$ along the data")
ax.plot(positions, across, marker="s", label=r"$\|J u_2\|$ across the data")
ax.set_xticks(positions, [f"{c:g}" for c in contractions])
ax.set(xlabel="contraction", ylabel="mean sensitivity", yscale="log", title="codes' sensitivity")
ax.legend()
fig.tight_layout()
plt.show()
