"""Demo: ``python -m sklearn_cae`` (``--help`` for the options).

On scikit-learn's digits (pixels scaled to [0, 1], 20 % held out):

1. grid-searches the CAE's ``contraction`` by cross-validation on the
   training part, in a Pipeline with a logistic regression;
2. compares test macro-F1 and fit time of raw pixels, PCA, a
   BernoulliRBM, a plain autoencoder (``contraction=0``) and the CAE;
3. reports the diagnostics of Rifai et al. (2011) for a CAE, a plain
   autoencoder and one with weight decay: mean ``||J(x)||_F``, fraction
   of saturated units, the Jacobian's singular values;
4. fits the seed lecture's picture: data along ``u1`` with small noise
   along ``u2``, the codes' sensitivity to each as ``contraction`` grows;
   and the PCA limit (a tied ``identity`` CAE spans PCA's subspace).

``--plot DIR`` writes PNG figures (needs matplotlib); ``--data FILE`` runs
the unsupervised part (autoencoder vs CAE, diagnostics, figures) on a CSV
or .npy file instead. The same helpers serve ``benchmarks/bench_digits.py``.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.linalg import subspace_angles
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_cae import ContractiveAutoencoder, diagnostics
from sklearn_cae._plots import (
    load_pyplot,
    plot_filters,
    plot_reconstructions,
    plot_seed,
    plot_spectra,
)

#: The seed picture: the data varies along U1 and only by noise along U2.
U1 = np.array([1.0, 1.0]) / np.sqrt(2.0)
U2 = np.array([1.0, -1.0]) / np.sqrt(2.0)


# ----------------------------------------------------------------- output
class Progress:
    """Prints one line per step: ``[i/n] (t s) what``, ``t`` the time so far."""

    def __init__(self, n_steps):
        self.n_steps, self.step, self.start = n_steps, 0, time.perf_counter()

    def __call__(self, message):
        self.step += 1
        elapsed = time.perf_counter() - self.start
        print(f"[{self.step}/{self.n_steps}] ({elapsed:.0f} s) {message}", flush=True)


def print_table(header, rows):
    """Print ``rows`` (tuples of str) under ``header`` as a Markdown table."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print()


def single_threaded_blas():
    """One BLAS thread per process: the matrices here are small (64 pixels),
    so threads cost more than they give (2x the wall time of the quick demo
    with two threads on 2 cores, far more when the cores are busy); the
    grid searches run two processes instead."""
    return threadpool_limits(limits=1, user_api="blas")


def fit_quietly(estimator, X, y=None):
    """Fit, silencing ConvergenceWarning; return the fit time in seconds."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return time.perf_counter() - start


# ------------------------------------------------------------ the models
def cae_classifier(**cae_params):
    """CAE features -> standardized -> logistic regression.

    The CAE defaults here (softplus units, cross-entropy reconstruction)
    are the ones that did best on digits in [0, 1]; see
    ``benchmarks/README.md``.
    """
    params = (
        dict(n_components=100, activation="softplus", loss="cross_entropy", random_state=0)
        | cae_params
    )
    return Pipeline(
        [
            ("cae", ContractiveAutoencoder(**params)),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )


def baselines(cae, n_components=100):
    """The comparison's models, keyed by table label.

    ``cae`` is the CAE pipeline (chosen by grid search); raw pixels and the
    RBM pipeline are scikit-learn's RBM example (with the default ``tol``).
    """
    n_pca = min(n_components, 64)  # PCA cannot have more components than the 64 pixels
    activation = cae.get_params()["cae__activation"]
    contraction = cae.get_params()["cae__contraction"]
    return {
        "raw pixels, LogisticRegression(C=100)": LogisticRegression(solver="newton-cg", C=100.0),
        f"PCA({n_pca}) + LogisticRegression": make_pipeline(
            PCA(n_pca, random_state=0), StandardScaler(), LogisticRegression(max_iter=1000)
        ),
        "BernoulliRBM(100) + LogisticRegression(C=6000)": make_pipeline(
            BernoulliRBM(n_components=100, learning_rate=0.06, n_iter=10, random_state=0),
            LogisticRegression(solver="newton-cg", C=6000.0),
        ),
        f"plain AE ({activation}, contraction=0) + LogisticRegression": clone(cae).set_params(
            cae__contraction=0.0
        ),
        f"CAE ({activation}, contraction={contraction:g}) + LogisticRegression": cae,
    }


def feature_table(models, X_train, y_train, X_test, y_test, progress):
    """Fit each model on the training part; rows of fit time and test scores."""
    rows = []
    for name, model in models.items():
        progress(f"fit {name}")
        seconds = fit_quietly(model, X_train, y_train)
        pred = model.predict(X_test)
        rows.append(
            (
                name,
                f"{seconds:.1f}",
                f"{f1_score(y_test, pred, average='macro'):.4f}",
                f"{accuracy_score(y_test, pred):.4f}",
            )
        )
    return ("features + classifier", "fit time (s)", "test macro-F1", "test accuracy"), rows


def diagnostic_models(n_components, contraction, alpha, max_iter):
    """Logistic autoencoders as in the paper's Table 1: CAE, AE, AE + weight decay."""
    common = dict(
        n_components=n_components, loss="cross_entropy", max_iter=max_iter, random_state=0
    )
    return {
        f"CAE (contraction={contraction:g})": ContractiveAutoencoder(
            contraction=contraction, **common
        ),
        "AE (contraction=0)": ContractiveAutoencoder(contraction=0.0, **common),
        f"AE + weight decay (alpha={alpha:g})": ContractiveAutoencoder(
            contraction=0.0, alpha=alpha, **common
        ),
    }


def diagnostics_table(models, X_train, X_test, progress):
    """Fit each autoencoder on ``X_train``; its diagnostics on ``X_test``.

    Returns the table and the averaged Jacobian spectra (for the figure).
    """
    rows, spectra = [], {}
    for name, model in models.items():
        progress(f"fit {name} and compute its diagnostics")
        fit_quietly(model, X_train)
        spectrum = diagnostics.jacobian_spectrum(model, X_test)
        spectra[name] = spectrum
        saturation = (
            f"{100 * diagnostics.saturation_fraction(model, X_test):.2f} %"
            if model.activation in ("logistic", "tanh")
            else "n/a"
        )
        rows.append(
            (
                name,
                f"{-model.score(X_test):.3f}",
                f"{diagnostics.mean_jacobian_norm(model, X_test):.4f}",
                saturation,
                f"{np.sum(spectrum > 0.1 * spectrum[0])}",
                " ".join(f"{s:.3f}" for s in spectrum[:4]),
                f"{diagnostics.contraction_ratio(model, X_test, [1.0], random_state=0)[0]:.4f}",
            )
        )
    header = (
        "model",
        "test reconstruction loss",
        "mean ||J(x)||_F",
        "SAT",
        "singular values > 10 % of the largest",
        "top 4 singular values",
        "contraction ratio at distance 1",
    )
    return header, rows, spectra


def line_data(n_samples=300, seed=0):
    """The seed picture's data: spread along ``U1`` across [0, 1]^2, noise 0.02 along ``U2``."""
    rng = np.random.RandomState(seed)
    along = rng.uniform(-0.5, 0.5, n_samples)
    across = 0.02 * rng.randn(n_samples)
    return 0.5 + np.outer(along, U1) + np.outer(across, U2)


def seed_table(contractions, max_iter):
    """Overcomplete (8 units, 2 inputs) CAEs on :func:`line_data`: mean
    ``||J u1||`` and ``||J u2||`` for each ``contraction``."""
    X = line_data()
    rows, curves = [], []
    for contraction in contractions:
        cae = ContractiveAutoencoder(
            n_components=8, contraction=contraction, max_iter=max_iter, random_state=0
        )
        fit_quietly(cae, X)
        along = diagnostics.directional_sensitivity(cae, X, U1)
        across = diagnostics.directional_sensitivity(cae, X, U2)
        curves.append((along, across))
        rows.append((f"{contraction:g}", f"{along:.4f}", f"{across:.4f}", f"{along / across:.1f}"))
    header = ("contraction", "||J u1|| (along the data)", "||J u2|| (across)", "ratio")
    return header, rows, np.array(curves)


def pca_limit_angle(X, n_components=2, max_iter=500):
    """Largest principal angle (radians) between a tied ``identity`` CAE's
    weight rows and PCA's components."""
    cae = ContractiveAutoencoder(
        n_components=n_components,
        contraction=0.01,
        activation="identity",
        max_iter=max_iter,
        random_state=0,
    )
    fit_quietly(cae, X)
    pca = PCA(n_components=n_components).fit(X)
    return float(np.max(subspace_angles(cae.components_.T, pca.components_.T)))


# ------------------------------------------------------------------- runs
def load_user_data(path):
    """A CSV (numbers only, optional header line) or a .npy file, as 2-D floats."""
    path = Path(path)
    if path.suffix == ".npy":
        X = np.load(path)
    else:
        X = np.genfromtxt(path, delimiter=",", dtype=np.float64)
        if X.ndim == 2 and np.isnan(X[0]).all():
            X = X[1:]  # header line
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or not np.isfinite(X).all():
        raise ValueError(f"{path}: expected a 2-D table of finite numbers, got shape {X.shape}.")
    return X


def run_digits(args, plt):
    quick = args.quick
    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixels in [0, 1]
    if quick:
        X, y = X[:300], y[:300]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    max_iter = 20 if quick else 100
    contractions = [0.0, 0.1] if quick else [0.0, 0.01, 0.1, 1.0]
    seed_contractions = [0.0, 0.1] if quick else [0.0, 0.001, 0.01, 0.03, 0.1, 0.3]
    progress = Progress(1 + 5 + 3 + 2)
    k = args.n_components

    print(f"digits: {len(X_train)} training and {len(X_test)} test images, pixels in [0, 1]\n")
    cv = 2 if quick else 3
    progress(f"grid search of contraction over {contractions} ({cv}-fold CV on the training part)")
    grid = GridSearchCV(
        cae_classifier(n_components=k, max_iter=max_iter),
        {"cae__contraction": contractions},
        cv=cv,
        scoring="f1_macro",
        n_jobs=1 if quick else 2,  # starting workers costs seconds
    )
    seconds = fit_quietly(grid, X_train, y_train)
    rows = [
        (f"{p['cae__contraction']:g}", f"{m:.4f}", f"{s:.4f}")
        for p, m, s in zip(
            grid.cv_results_["params"],
            grid.cv_results_["mean_test_score"],
            grid.cv_results_["std_test_score"],
            strict=True,
        )
    ]
    print_table(("contraction", "mean CV macro-F1", "std"), rows)
    best = grid.best_params_["cae__contraction"]
    print(f"best contraction: {best:g} (grid search took {seconds:.1f} s)")
    print(f"test macro-F1 of the refitted best pipeline: {grid.score(X_test, y_test):.4f}\n")

    models = baselines(grid.best_estimator_, k)
    header, rows = feature_table(models, X_train, y_train, X_test, y_test, progress)
    print_table(header, rows)

    diag_models = diagnostic_models(k, contraction=0.1, alpha=10.0, max_iter=max_iter)
    header, rows, spectra = diagnostics_table(diag_models, X_train, X_test, progress)
    print_table(header, rows)

    progress("the seed picture: CAEs with 8 hidden units on 2-D data along u1")
    header, rows, curves = seed_table(seed_contractions, max_iter=100 if quick else 500)
    print_table(header, rows)

    progress("the PCA limit: a tied identity CAE with 8 units vs PCA(8)")
    angle = pca_limit_angle(X_train, n_components=8, max_iter=max_iter * 5)
    print(f"largest principal angle between the CAE's and PCA's subspaces: {angle:.2e} rad\n")

    if plt is not None:
        out = Path(args.plot)
        cae, ae = diag_models["CAE (contraction=0.1)"], diag_models["AE (contraction=0)"]
        plot_filters(plt, cae, out / "filters_cae.png", "CAE (contraction=0.1) filters")
        plot_filters(plt, ae, out / "filters_ae.png", "plain autoencoder filters")
        plot_reconstructions(plt, diag_models, X_test, out / "reconstructions.png")
        plot_spectra(plt, spectra, out / "jacobian_spectra.png")
        plot_seed(plt, line_data(), U1, U2, seed_contractions, curves, out / "seed_picture.png")


def run_user_data(args, plt):
    X = load_user_data(args.data)
    print(f"{args.data}: {X.shape[0]} samples, {X.shape[1]} features")
    X = np.clip(MinMaxScaler().fit_transform(X), 0.0, 1.0)  # clip rounding
    print("scaled each feature to [0, 1] (MinMaxScaler); 20 % held out for the diagnostics\n")
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    max_iter = 30 if args.quick else 200
    models = diagnostic_models(args.n_components, contraction=0.1, alpha=10.0, max_iter=max_iter)
    progress = Progress(len(models))
    header, rows, spectra = diagnostics_table(models, X_train, X_test, progress)
    print_table(header, rows)
    if plt is not None:
        out = Path(args.plot)
        plot_spectra(plt, spectra, out / "jacobian_spectra.png")
        cae = next(iter(models.values()))
        plot_filters(plt, cae, out / "filters_cae.png", "CAE filters")
        plot_reconstructions(plt, models, X_test, out / "reconstructions.png")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_cae",
        description=(
            "Contractive autoencoder demo on scikit-learn's digits: a grid search of "
            "contraction, a feature comparison (raw pixels, PCA, BernoulliRBM, plain "
            "autoencoder, CAE) by test macro-F1 and fit time, the diagnostics of Rifai et "
            "al. (2011) (mean Jacobian norm, saturated units, Jacobian spectrum), the seed "
            "picture (sensitivity along and across the data) and the PCA limit. Takes about "
            "a minute on 2 cores; --quick takes seconds."
        ),
        epilog=(
            "Figures need matplotlib: pip install '.[plot]'. The full benchmark on the "
            "nudged digits of scikit-learn's RBM example is benchmarks/bench_digits.py."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="a reduced run (less data, fewer iterations)"
    )
    parser.add_argument(
        "--plot",
        metavar="DIR",
        help="write PNG figures into DIR (filters, reconstructions, Jacobian spectra, "
        "the seed picture); needs matplotlib",
    )
    parser.add_argument(
        "--data",
        metavar="FILE",
        help="run the unsupervised part (CAE vs plain autoencoder: diagnostics and "
        "figures) on your own data: a CSV of numbers (optional header line) or a .npy "
        "array, one sample per row; each feature is scaled to [0, 1]",
    )
    parser.add_argument(
        "--n-components",
        type=int,
        default=100,
        metavar="K",
        help="hidden units of the autoencoders (default: 100)",
    )
    args = parser.parse_args(argv)

    plt = None
    if args.plot is not None:
        plt = load_pyplot()
        if plt is not None:
            Path(args.plot).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with single_threaded_blas():
        if args.data is not None:
            run_user_data(args, plt)
        else:
            run_digits(args, plt)
    print(f"done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
