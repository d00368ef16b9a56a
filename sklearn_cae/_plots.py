"""The demo's figures (matplotlib, imported only when ``--plot`` asks)."""

import numpy as np


def load_pyplot():
    """``matplotlib.pyplot`` with a file backend, or None (and say so)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            'matplotlib is not installed, so no figures were written: pip install ".[plot]" '
            "(or pip install matplotlib) and run again with --plot DIR."
        )
        return None
    return plt


def mosaic(images, side, cols, pad=1):
    """Tile flat square images into one array (NaN between tiles)."""
    rows = int(np.ceil(len(images) / cols))
    step = side + pad
    out = np.full((rows * step - pad, cols * step - pad), np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        out[r * step : r * step + side, c * step : c * step + side] = image.reshape(side, side)
    return out


def image_side(n_features):
    side = int(round(np.sqrt(n_features)))
    return side if side * side == n_features else None


def plot_filters(plt, cae, path, title):
    """The encoder's weight rows as square images (if the features are)."""
    side = image_side(cae.components_.shape[1])
    if side is None:
        return None
    W = cae.components_ / np.abs(cae.components_).max(axis=1, keepdims=True)
    cols = int(np.ceil(np.sqrt(len(W))))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(mosaic(W, side, cols), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    return save(plt, fig, path)


def plot_reconstructions(plt, models, X, path):
    """First 10 rows of ``X`` (square images) and each model's reconstruction."""
    side = image_side(X.shape[1])
    if side is None:
        return None
    images = {"input": X[:10]} | {
        name: m.inverse_transform(m.transform(X[:10])) for name, m in models.items()
    }
    fig, axes = plt.subplots(len(images), 1, figsize=(8, 0.9 * len(images) + 0.3))
    for ax, (name, rows) in zip(axes, images.items(), strict=True):
        ax.imshow(mosaic(rows, side, len(rows)), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=7)
    fig.suptitle("Test inputs and reconstructions", fontsize=9)
    return save(plt, fig, path)


def plot_spectra(plt, spectra, path):
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, spectrum in spectra.items():
        ax.semilogy(np.arange(1, len(spectrum) + 1), spectrum, marker=".", label=name)
    ax.set_xlabel("rank")
    ax.set_ylabel("mean singular value of J(x)")
    ax.set_title("Jacobian spectra on test data", fontsize=9)
    ax.legend(fontsize=7)
    return save(plt, fig, path)


def plot_seed(plt, X, u1, u2, contractions, curves, path):
    """The seed picture: the data with ``u1``, ``u2``, and the codes' sensitivity
    along each as ``contraction`` grows: ``curves[i, s]`` is ``(along, across)``
    for contraction ``i`` and initialisation ``s``; median line, range shaded."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.scatter(X[:, 0], X[:, 1], s=4, color="0.5")
    for u, name in ((u1, "u1"), (u2, "u2")):
        left.annotate("", xy=0.5 + 0.3 * u, xytext=(0.5, 0.5), arrowprops={"arrowstyle": "->"})
        left.text(*(0.5 + 0.33 * u), name)
    left.set_aspect("equal")
    left.set_title("data: spread along u1, noise 0.02 along u2", fontsize=9)
    x = np.arange(len(contractions))  # evenly spaced, so that 0 has a place
    for column, marker, label in (
        (0, "o-", "||J u1|| (along the data)"),
        (1, "s-", "||J u2|| (across)"),
    ):
        values = curves[:, :, column]
        (line,) = right.semilogy(x, np.median(values, axis=1), marker, label=label)
        right.fill_between(
            x, values.min(axis=1), values.max(axis=1), color=line.get_color(), alpha=0.2
        )
    right.set_xticks(x, [f"{c:g}" for c in contractions])
    right.set_xlabel("contraction (0: plain autoencoder)")
    right.set_ylabel("mean sensitivity of the codes")
    right.set_title(
        f"8 hidden units for 2 inputs: median and range of {curves.shape[1]} initialisations",
        fontsize=9,
    )
    right.legend(fontsize=7)
    return save(plt, fig, path)


def save(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"    wrote {path}")
    return path
