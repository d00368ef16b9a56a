"""Demo: ``python -m sklearn_cae`` (``--help`` for the options).

On the nudged digits of scikit-learn's RBM example (pixels in [0, 1], a
random subset, 20 % held out):

1. fits the seed lecture's picture first (what the penalty does): data
   along ``u1`` with small noise along ``u2``, the codes' sensitivity to
   each as ``contraction`` grows;
2. grid-searches the CAE's ``contraction`` by cross-validation on the
   training part, in a Pipeline with a logistic regression;
3. compares test macro-F1 and fit time of raw pixels, PCA, a
   BernoulliRBM, a plain autoencoder (``contraction=0``) and the CAE;
4. reports the diagnostics of Rifai et al. (2011) for a CAE, a plain
   autoencoder and one with weight decay: mean ``||J(x)||_F``, fraction
   of saturated units, the Jacobian's singular values; and the PCA limit
   (a tied ``identity`` CAE spans PCA's subspace).

After each table a few sentences say what it shows. ``--plot DIR`` writes
PNG figures (needs matplotlib); ``--data FILE`` runs the unsupervised part
(autoencoder vs CAE, diagnostics, figures) on a CSV or .npy file instead.
The same helpers serve ``benchmarks/bench_digits.py``; the durations quoted
in ``--help`` and the README are measured by ``benchmarks/bench_demo.py``.
"""

import argparse
import csv
import math
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.linalg import subspace_angles
from scipy.special import entr, xlogy
from sklearn.base import clone
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
    image_side,
    load_pyplot,
    plot_filters,
    plot_reconstructions,
    plot_seed,
    plot_spectra,
)
from sklearn_cae.datasets import load_nudged_digits

#: The seed picture: the data varies along U1 and only by noise along U2.
U1 = np.array([1.0, 1.0]) / np.sqrt(2.0)
U2 = np.array([1.0, -1.0]) / np.sqrt(2.0)

#: What the full run and ``--quick`` fit (measured by benchmarks/bench_demo.py).
SETTINGS = {
    "full": dict(
        n_images=4000,
        max_iter=100,
        cv=3,
        contractions=[0.0, 0.1, 0.3, 1.0],
        seed_contractions=[0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3],
        n_seeds=5,
    ),
    "quick": dict(
        n_images=1500,
        max_iter=50,
        cv=2,
        contractions=[0.0, 0.3],
        seed_contractions=[0.0, 0.01, 0.3],
        n_seeds=3,
    ),
}
#: Durations measured by ``benchmarks/bench_demo.py`` (see benchmarks/README.md).
DURATIONS = {"full": "18-48 s", "quick": "4-12 s"}


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


def explain(text):
    """Print ``text`` wrapped at 100 columns, then an empty line."""
    print(textwrap.fill(" ".join(text.split()), width=100) + "\n")


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
    The plain autoencoder's label starts with ``"plain AE"``, the CAE's
    with ``"CAE"``.
    """
    n_pca = min(n_components, 64)  # PCA cannot have more components than the 64 pixels
    activation = cae.get_params()["cae__activation"]
    contraction = cae.get_params()["cae__contraction"]
    return {
        "raw pixels (C=100)": LogisticRegression(solver="newton-cg", C=100.0),
        f"PCA({n_pca})": make_pipeline(
            PCA(n_pca, random_state=0), StandardScaler(), LogisticRegression(max_iter=1000)
        ),
        "BernoulliRBM(100) (C=6000)": make_pipeline(
            BernoulliRBM(n_components=100, learning_rate=0.06, n_iter=10, random_state=0),
            LogisticRegression(solver="newton-cg", C=6000.0),
        ),
        f"plain AE ({activation}, contraction=0)": clone(cae).set_params(cae__contraction=0.0),
        f"CAE ({activation}, contraction={contraction:g})": cae,
    }


def feature_table(models, X_train, y_train, X_test, y_test, progress, fitted=None):
    """Fit each model on the training part; rows of fit time and test scores.

    ``fitted`` maps the names of models already fitted on the training part
    (such as a grid search's refitted best pipeline) to their fit time.
    Returns the table's header and rows and each model's test macro-F1.
    """
    rows, scores, fitted = [], {}, fitted or {}
    for name, model in models.items():
        progress(f"fit {name}" if name not in fitted else f"{name}: fitted by the grid search")
        seconds = fitted[name] if name in fitted else fit_quietly(model, X_train, y_train)
        pred = model.predict(X_test)
        scores[name] = f1_score(y_test, pred, average="macro")
        rows.append(
            (name, f"{seconds:.1f}", f"{scores[name]:.4f}", f"{accuracy_score(y_test, pred):.4f}")
        )
    header = ("features (+ logistic regression)", "fit time (s)", "test macro-F1", "test accuracy")
    return header, rows, scores


def diagnostic_models(n_components, contraction, alpha, max_iter, random_state=0):
    """Logistic autoencoders as in the paper's Table 1: CAE, AE, AE + weight decay."""
    common = dict(
        n_components=n_components,
        loss="cross_entropy",
        max_iter=max_iter,
        random_state=random_state,
    )
    return {
        f"CAE (contraction={contraction:g})": ContractiveAutoencoder(
            contraction=contraction, **common
        ),
        "AE (contraction=0)": ContractiveAutoencoder(contraction=0.0, **common),
        f"AE + decay (alpha={alpha:g})": ContractiveAutoencoder(
            contraction=0.0, alpha=alpha, **common
        ),
    }


def diagnostics_table(models, X_train, X_test, progress):
    """Fit each autoencoder on ``X_train``; its diagnostics on ``X_test``.

    Returns the table, the averaged Jacobian spectra (for the figure) and
    the measures by model: ``{"jacobian_norm", "saturation", "loss",
    "contraction_ratio"}`` (saturation is None for unbounded codes).
    """
    rows, spectra, measures = [], {}, {}
    for name, model in models.items():
        progress(f"fit {name} and compute its diagnostics")
        fit_quietly(model, X_train)
        spectrum = diagnostics.jacobian_spectrum(model, X_test)
        spectra[name] = spectrum
        bounded = model.activation in ("logistic", "tanh")
        measures[name] = {
            "loss": -model.score(X_test),
            "jacobian_norm": diagnostics.mean_jacobian_norm(model, X_test),
            "saturation": diagnostics.saturation_fraction(model, X_test) if bounded else None,
            "contraction_ratio": diagnostics.contraction_ratio(
                model, X_test, [1.0], random_state=0
            )[0],
        }
        m = measures[name]
        rows.append(
            (
                name,
                f"{m['loss']:.3f}",
                f"{m['jacobian_norm']:.4f}",
                "n/a" if m["saturation"] is None else f"{100 * m['saturation']:.2f} %",
                f"{np.sum(spectrum > 0.1 * spectrum[0])}",
                f"{m['contraction_ratio']:.4f}",
            )
        )
    header = (
        "model",
        "test rec. loss",
        "mean ||J||_F",
        "SAT",
        "s.v. > 10 %",
        "ratio at 1",
    )
    return header, rows, spectra, measures


def by_role(measures):
    """The diagnostics' measures keyed "CAE", "AE", "AE + weight decay"."""
    return dict(zip(["CAE", "AE", "AE + weight decay"], measures.values(), strict=True))


def reconstruction_references(X_train, X_test):
    """Two yardsticks for a mean cross-entropy reconstruction loss on ``X_test``:
    its floor (a perfect reconstruction still pays the entropy of grey
    values) and the loss of predicting the mean training row."""
    floor = float((entr(X_test) + entr(1.0 - X_test)).sum(axis=1).mean())
    mean_row = np.clip(X_train.mean(axis=0), 1e-3, 1.0 - 1e-3)
    mean_loss = -(xlogy(X_test, mean_row) + xlogy(1.0 - X_test, 1.0 - mean_row)).sum(axis=1)
    return floor, float(mean_loss.mean())


def explain_diagnostics(measures, X_train, X_test):
    """Say what the diagnostics table shows (CAE first, plain AE second)."""
    m_cae, m_ae, m_wd = measures.values()
    floor, mean_loss = reconstruction_references(X_train, X_test)
    saturation = ""
    if m_cae["saturation"] is not None:
        saturation = (
            f"SAT, the share of codes within 5 % of 0 or 1 (units that ignore small input "
            f"changes), is {100 * m_cae['saturation']:.0f} % for the CAE against "
            f"{100 * m_ae['saturation']:.0f} % and {100 * m_wd['saturation']:.0f} %. "
        )
    if m_cae["jacobian_norm"] < min(m_ae["jacobian_norm"], m_wd["jacobian_norm"]):
        verdict = (
            f"The CAE has the smallest Jacobian, at a reconstruction loss "
            f"{m_cae['loss'] - m_ae['loss']:+.2f} from the plain AE's: its codes react to "
            f"fewer directions of the input."
        )
        if m_wd["contraction_ratio"] < m_cae["contraction_ratio"]:
            verdict += (
                " At distance 1, though, weight decay contracts more (ratio "
                f"{m_wd['contraction_ratio']:.4f} against the CAE's "
                f"{m_cae['contraction_ratio']:.4f}): the CAE's penalty acts on small moves."
            )
    else:
        verdict = "Here the CAE's Jacobian is not the smallest: try a larger contraction."
    explain(
        f"The diagnostics use the paper's setting, not the one cross-validation chose: "
        f"logistic units, because SAT needs bounded codes (softplus codes have no upper "
        f"bound), and a fixed contraction=0.1 against the same model without the penalty and "
        f"with weight decay instead. mean ||J||_F is how much the codes move per unit move "
        f"of the input: "
        f"{m_cae['jacobian_norm']:.2f} for the CAE, {m_ae['jacobian_norm']:.2f} for the plain "
        f"AE, {m_wd['jacobian_norm']:.2f} with weight decay. {saturation}The contraction ratio "
        f"is ||h(x) - h(x')|| / ||x - x'|| for random x' at distance 1 of each test row "
        f"(a row's norm is {np.linalg.norm(X_test, axis=1).mean():.1f} on average; 'ratio "
        f"at 1' in the table), and 's.v. > 10 %' counts the Jacobian's mean singular values "
        f"above 10 % of the largest. "
        f"The reconstruction loss is the cross-entropy summed over the "
        f"{X_test.shape[1]} features: between {floor:.1f} (perfect reconstruction) and "
        f"{mean_loss:.1f} (predicting the mean training row). {verdict}"
    )


def line_data(n_samples=300, seed=0):
    """The seed picture's data: spread along ``U1`` across [0, 1]^2, noise 0.02 along ``U2``."""
    rng = np.random.RandomState(seed)
    along = rng.uniform(-0.5, 0.5, n_samples)
    across = 0.02 * rng.randn(n_samples)
    return 0.5 + np.outer(along, U1) + np.outer(across, U2)


def seed_table(contractions, n_seeds=5):
    """Overcomplete (8 units, 2 inputs) CAEs on :func:`line_data`, fitted to
    ``tol=1e-7`` from ``n_seeds`` initialisations: the median of mean
    ``||J u1||`` and ``||J u2||`` for each ``contraction``.

    Returns the table and the sensitivities, shape
    ``(len(contractions), n_seeds, 2)``.
    """
    X = line_data()
    curves = np.empty((len(contractions), n_seeds, 2))
    for i, contraction in enumerate(contractions):
        for seed in range(n_seeds):
            # converged: at the default tol the plain autoencoder stops short of the identity
            cae = ContractiveAutoencoder(
                n_components=8, contraction=contraction, tol=1e-7, max_iter=2000, random_state=seed
            )
            fit_quietly(cae, X)
            curves[i, seed] = [
                diagnostics.directional_sensitivity(cae, X, U1),
                diagnostics.directional_sensitivity(cae, X, U2),
            ]
    median = np.median(curves, axis=1)
    rows = [
        (f"{c:g}", f"{along:.4f}", f"{across:.4f}", f"{along / across:.1f}")
        for c, (along, across) in zip(contractions, median, strict=True)
    ]
    header = ("contraction", "||J u1|| (along the data)", "||J u2|| (across)", "ratio")
    return header, rows, curves


def pca_limit_angle(X, n_components=2, max_iter=500):
    """Largest principal angle (radians) between a tied ``identity`` CAE's
    weight rows and PCA's components."""
    cae = ContractiveAutoencoder(
        n_components=n_components,
        contraction=0.01,
        activation="identity",
        tol=1e-7,  # the converged model's subspace, past the objective's plateaus
        max_iter=max_iter,
        random_state=0,
    )
    fit_quietly(cae, X)
    pca = PCA(n_components=n_components).fit(X)
    return float(np.max(subspace_angles(cae.components_.T, pca.components_.T)))


# ------------------------------------------------------------- user data
class DataError(ValueError):
    """A ``--data`` file the demo cannot use; the message names the problem."""


def _number(text, where):
    """``float(text)``, or a DataError naming the cell ``where``."""
    try:
        value = float(text)
    except ValueError:
        shown = repr(text.strip()) if text.strip() else "an empty cell"
        raise DataError(f"{where}: {shown} is not a number.") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {text.strip()!r} is not a finite number.")
    return value


def _read_csv(path):
    """Rows of floats from a comma-separated file; skips one header line
    (every cell of the first line not a number) and says so."""
    try:
        with open(path, newline="") as f:
            lines = [(i, row) for i, row in enumerate(csv.reader(f), start=1) if row]
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (a CSV) nor a .npy file.") from None
    if not lines:
        raise DataError(f"{path}: the file has no rows.")
    first_line, first = lines[0]
    if len(first) == 1 and (";" in first[0] or "\t" in first[0]):
        separator = "';'" if ";" in first[0] else "tabs"
        raise DataError(
            f"{path}: the values of line {first_line} are separated by {separator}; "
            "the demo reads comma-separated values."
        )
    if not any(_is_number(cell) for cell in first):
        print(f"{path}: skipped line {first_line}, a header: {','.join(first)}")
        lines = lines[1:]
        if not lines:
            raise DataError(f"{path}: no rows of numbers after the header.")
    rows = []
    for line, row in lines:
        if len(row) != len(lines[0][1]):
            raise DataError(
                f"{path}: line {line} has {len(row)} values, line {lines[0][0]} has "
                f"{len(lines[0][1])}."
            )
        rows.append(
            [_number(c, f"{path}, line {line}, column {j}") for j, c in enumerate(row, start=1)]
        )
    return np.array(rows, dtype=np.float64).reshape(len(rows), -1)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_user_data(path):
    """A CSV (numbers only, comma-separated, optional header line) or a .npy
    file, as 2-D floats; a :class:`DataError` names what is wrong.

    Cells are named as a reader finds them: CSV by line and column counted
    from 1, .npy by row and column index counted from 0.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file.")
    if path.suffix == ".npy":
        try:
            X = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise DataError(f"{path}: not a numeric .npy array ({exc}).") from None
        if X.dtype.kind not in "biuf":
            raise DataError(f"{path}: expected an array of numbers, got dtype {X.dtype}.")
        X = X.astype(np.float64)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2:
            raise DataError(f"{path}: expected a 2-D array (samples x features), got {X.ndim}-D.")
        bad = np.argwhere(~np.isfinite(X))
        if len(bad):
            i, j = bad[0]
            raise DataError(f"{path}, row {i}, column {j} (from 0): {X[i, j]} is not finite.")
    else:
        X = _read_csv(path)
    if X.shape[0] < 5:
        raise DataError(f"{path}: {X.shape[0]} rows; the demo needs at least 5.")
    return X


# ------------------------------------------------------------------- runs
def run_digits(args, plt, seed=0):
    """The digits demo; returns what it measured (for the tests and
    ``benchmarks/bench_demo.py``). ``seed`` picks the subset, the split and
    the autoencoders' initialisations."""
    setting = SETTINGS["quick" if args.quick else "full"]
    max_iter, cv, contractions = setting["max_iter"], setting["cv"], setting["contractions"]
    X, y = load_nudged_digits()
    subset = np.random.RandomState(seed).permutation(len(X))[: setting["n_images"]]
    X, y = X[subset].astype(np.float64), y[subset]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=seed)
    progress = Progress(1 + 5 + 3 + 2)
    k = args.n_components
    results = {}

    progress("the seed picture: CAEs with 8 hidden units on 2-D data along u1")
    header, rows, curves = seed_table(setting["seed_contractions"], setting["n_seeds"])
    print_table(header, rows)
    median = np.median(curves, axis=1)
    explain(
        f"Medians over {setting['n_seeds']} initialisations of the codes' sensitivity "
        f"along the data (u1) and across it (u2, where the data only has noise). With "
        f"contraction=0 the 8 units for 2 inputs learn the identity: the same sensitivity "
        f"both ways. As contraction grows to {setting['seed_contractions'][-1]:g}, the "
        f"sensitivity across falls from {median[0, 1]:.3f} to {median[-1, 1]:.4f} and along "
        f"only from {median[0, 0]:.3f} to {median[-1, 0]:.3f}: the codes follow the data and "
        f"ignore the noise."
    )

    explain(
        f"nudged digits (scikit-learn's RBM example: each digit and four copies moved by one "
        f"pixel), {len(X)} of them at random: {len(X_train)} training and {len(X_test)} test "
        f"images, pixels in [0, 1]"
    )
    progress(f"grid search of contraction over {contractions} ({cv}-fold CV on the training part)")
    grid = GridSearchCV(
        cae_classifier(n_components=k, max_iter=max_iter, random_state=seed),
        {"cae__contraction": contractions},
        cv=cv,
        scoring="f1_macro",
        n_jobs=1 if args.quick else 2,  # starting workers costs seconds
    )
    seconds = fit_quietly(grid, X_train, y_train)
    cv_scores = dict(
        zip(
            [p["cae__contraction"] for p in grid.cv_results_["params"]],
            zip(
                grid.cv_results_["mean_test_score"], grid.cv_results_["std_test_score"], strict=True
            ),
            strict=True,
        )
    )
    print_table(
        ("contraction", "mean CV macro-F1", "std"),
        [(f"{c:g}", f"{m:.4f}", f"{s:.4f}") for c, (m, s) in cv_scores.items()],
    )
    best = results["best_contraction"] = grid.best_params_["cae__contraction"]
    explain(
        f"Each row is the CAE ({k} softplus units, {max_iter} L-BFGS iterations) -> "
        f"StandardScaler -> LogisticRegression pipeline, scored by macro-F1 on the held-out "
        f"fold of {cv}-fold cross-validation on the training images; contraction=0 is a plain "
        f"autoencoder. Chosen: contraction={best:g}, {cv_scores[best][0]:.4f} against "
        f"{cv_scores[0.0][0]:.4f} without the penalty (grid search {seconds:.1f} s). "
        f"Ranking by the classifier's score is how to choose contraction: the "
        f"autoencoder's own score (minus the reconstruction loss) ignores the penalty, so it "
        f"prefers the smallest."
    )

    models = baselines(grid.best_estimator_, k)
    ae_name, cae_name = list(models)[-2:]
    header, rows, scores = feature_table(
        models, X_train, y_train, X_test, y_test, progress, fitted={cae_name: grid.refit_time_}
    )
    print_table(header, rows)
    results["test_f1"] = {"plain AE": scores[ae_name], "CAE": scores[cae_name]}
    explain(
        f"Every model is fitted on the {len(X_train)} training images and scored once on the "
        f"{len(X_test)} test images. The plain AE and the CAE differ only in the penalty, "
        f"which changes the test macro-F1 by {100 * (scores[cae_name] - scores[ae_name]):+.1f} "
        f"points ({scores[ae_name]:.4f} -> {scores[cae_name]:.4f}): codes that ignore the "
        f"directions the digits do not vary in are easier to classify."
    )

    diag_models = diagnostic_models(k, 0.1, alpha=10.0, max_iter=max_iter, random_state=seed)
    header, rows, spectra, measures = diagnostics_table(diag_models, X_train, X_test, progress)
    print_table(header, rows)
    results["diagnostics"] = by_role(measures)
    print("The paper's Table 1: logistic units, cross-entropy reconstruction, test images.")
    explain_diagnostics(measures, X_train, X_test)

    progress("the PCA limit: a tied identity CAE with 8 units vs PCA(8)")
    angle = pca_limit_angle(X_train, n_components=8, max_iter=max_iter * 5)
    results["pca_angle"] = angle
    print(f"largest principal angle between the CAE's and PCA's subspaces: {angle:.2e} rad\n")
    explain(
        "With identity units the penalty is weight decay, and a tied linear autoencoder "
        "spans the principal subspace: an angle near 0 says the CAE generalises PCA."
    )

    if plt is not None:
        out = Path(args.plot)
        cae, ae = diag_models["CAE (contraction=0.1)"], diag_models["AE (contraction=0)"]
        plot_filters(plt, cae, out / "filters_cae.png", "CAE (contraction=0.1) filters")
        plot_filters(plt, ae, out / "filters_ae.png", "plain autoencoder filters")
        plot_reconstructions(plt, diag_models, X_test, out / "reconstructions.png")
        plot_spectra(plt, spectra, out / "jacobian_spectra.png")
        contractions, path = setting["seed_contractions"], out / "seed_picture.png"
        plot_seed(plt, line_data(), U1, U2, contractions, curves, path)
    return results


def run_user_data(X, args, plt):
    """The unsupervised part on ``X`` (from :func:`load_user_data`)."""
    print(f"{args.data}: {X.shape[0]} samples, {X.shape[1]} features")
    X = np.clip(MinMaxScaler().fit_transform(X), 0.0, 1.0)  # clip rounding
    print("scaled each feature to [0, 1] (MinMaxScaler); 20 % held out for the diagnostics\n")
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    max_iter = 30 if args.quick else 200
    models = diagnostic_models(args.n_components, contraction=0.1, alpha=10.0, max_iter=max_iter)
    progress = Progress(len(models))
    header, rows, spectra, measures = diagnostics_table(models, X_train, X_test, progress)
    print_table(header, rows)
    explain_diagnostics(measures, X_train, X_test)
    if plt is not None:
        out = Path(args.plot)
        plot_spectra(plt, spectra, out / "jacobian_spectra.png")
        cae = next(iter(models.values()))
        plot_filters(plt, cae, out / "filters_cae.png", "CAE filters")
        plot_reconstructions(plt, models, X_test, out / "reconstructions.png")
        if image_side(X.shape[1]) is None:
            print(
                f"    (no filters or reconstructions: {X.shape[1]} features are not a square image)"
            )
    return {"diagnostics": by_role(measures)}


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line on stderr (exit code 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def main(argv=None):
    """Run the demo; return what it measured (a dict)."""
    parser = _Parser(
        prog="python -m sklearn_cae",
        description=(
            "Contractive autoencoder demo on the nudged digits of scikit-learn's RBM "
            "example: a grid search of contraction, a feature comparison (raw pixels, PCA, "
            "BernoulliRBM, plain autoencoder, CAE) by test macro-F1 and fit time, the "
            "diagnostics of Rifai et al. (2011) (mean Jacobian norm, saturated units, "
            "Jacobian spectrum), the seed picture (sensitivity along and across the data) "
            f"and the PCA limit. Takes {DURATIONS['full']} on 2 cores; --quick takes "
            f"{DURATIONS['quick']}."
        ),
        epilog=(
            "Figures need matplotlib: pip install '.[plot]'. The full benchmark on all the "
            "nudged digits is benchmarks/bench_digits.py."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="a reduced run (less data, fewer iterations)"
    )
    parser.add_argument(
        "--plot",
        metavar="DIR",
        help="write PNG figures into DIR (filters, reconstructions, Jacobian spectra, "
        "the seed picture; with --data, the spectra, and filters and reconstructions "
        "if the features are square images); needs matplotlib",
    )
    parser.add_argument(
        "--data",
        metavar="FILE",
        help="run the unsupervised part (CAE vs plain autoencoder: diagnostics and "
        "figures) on your own data: a CSV of numbers separated by commas (a first line "
        "without numbers is skipped as a header) or a .npy array, one sample per row; "
        "each feature is scaled to [0, 1]",
    )
    parser.add_argument(
        "--n-components",
        type=_positive_int,
        default=100,
        metavar="K",
        help="hidden units of the autoencoders (default: 100)",
    )
    args = parser.parse_args(argv)
    if args.data is not None:
        try:
            X = load_user_data(args.data)
        except (DataError, OSError) as exc:
            parser.exit(2, f"{parser.prog}: error: --data {exc}\n")

    plt = None
    if args.plot is not None:
        plt = load_pyplot()
        if plt is not None:
            Path(args.plot).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with single_threaded_blas():
        if args.data is not None:
            results = run_user_data(X, args, plt)
        else:
            results = run_digits(args, plt)
    print(f"done in {time.perf_counter() - start:.0f} s")
    return results


if __name__ == "__main__":
    main()
