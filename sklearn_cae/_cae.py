"""ContractiveAutoencoder: parameters, validation and the public methods.
The math lives in ``_objective.py``, the optimization drivers in
``_solvers.py``."""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import threadpoolctl
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _objective, _solvers
from ._activations import ACTIVATIONS

_MAX_CHUNK_ROWS = 2048
#: Where the documentation is published; the HTML repr's "?" links to the
#: estimator's page under it, which docs/conf.py checks the build produces.
DOCS_URL = "https://sklearn-cae.readthedocs.io/en/stable/"
_MIN_ROWS_PER_THREAD = 256


class ContractiveAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Contractive autoencoder (Rifai et al., 2011) trained by L-BFGS.

    An autoencoder ``x -> h = f(W x + b) -> r = g(h D + c)`` whose training
    objective adds ``contraction * ||dh/dx||_F^2``, the squared Frobenius
    norm of the encoder's Jacobian, to the reconstruction loss. The penalty
    makes the codes insensitive to the directions in which the training
    data does not vary, so the model keeps the directions along the data
    manifold, and even an overcomplete model cannot learn the identity.

    The exact objective and its closed-form gradient are minimised by
    ``scipy.optimize.minimize(method="L-BFGS-B")``.

    Parameters
    ----------
    n_components : int, default=100
        Number of hidden units ``k``. May exceed the number of features
        (an overcomplete model): the penalty still prevents the identity.

    contraction : float, default=0.1
        Weight of the contractive penalty ``||dh/dx||_F^2`` per sample.
        ``0`` gives a plain autoencoder. Its right value grows with the
        input scale: the default suits data in ``[0, 1]``; for
        standardized data search upwards from about ``1`` (see the
        README's scaling advice).

    activation : {"logistic", "tanh", "softplus", "relu", "identity"}, \
            default="logistic"
        Hidden-unit activation ``f`` (scikit-learn MLP's names).
        ``"identity"`` with tied weights is a regularised PCA.

    loss : {"squared_error", "cross_entropy"}, default="squared_error"
        Reconstruction loss. ``"squared_error"`` pairs with a linear
        output and works on any real data; ``"cross_entropy"`` pairs with a
        sigmoid output and needs data in ``[0, 1]``.

    tied_weights : bool, default=True
        If True the decoder uses the encoder's weights (``D = W``), as in
        the paper; otherwise it has its own ``decoder_components_``.

    alpha : float, default=0.0
        L2 penalty on the weights, ``0.5 * alpha * ||W||^2 / n_samples``
        (plus ``||D||^2`` when untied), like MLP's ``alpha``.

    max_iter : int, default=200
        Maximum number of L-BFGS iterations.

    tol : float, default=1e-4
        L-BFGS stops when the largest projected gradient component falls
        below ``tol`` (scipy's ``gtol``).

    max_fun : int, default=15000
        Maximum number of objective evaluations.

    working_memory : float, default=128
        Upper bound, in MiB, on the temporaries of one objective
        evaluation (all threads together): rows are processed in chunks
        that fit in it, so the memory of :meth:`fit` beyond the data and
        the parameters stays near this bound whatever the number of
        samples. Chunks are at most 2048 rows whatever the bound; lower it
        to fit in less memory. The result depends on it only through
        floating-point summation order. Training uses as many threads as
        BLAS is allowed (``threadpoolctl.threadpool_limits`` and joblib's
        limits are respected), each with one BLAS thread.

    random_state : int, RandomState instance or None, default=None
        Seeds the Glorot-uniform initialisation of the weights. Pass an int
        for reproducible (bitwise identical) results.

    verbose : int, default=0
        If positive, print one line per L-BFGS iteration (iteration,
        objective, mean reconstruction loss, penalty = objective minus
        reconstruction, largest gradient component, validation score with
        ``early_stopping``, elapsed time) and a final summary line. The
        split costs one extra reconstruction pass per iteration, only
        when verbose.

    hessian_penalty : float, default=0.0
        Weight of the higher-order contraction term of CAE+H (Rifai et al.,
        ECML 2011), ``hessian_penalty * mean_c ||J(x) - J(x + eps_c)||_F^2``
        per sample, where ``J`` is the encoder's Jacobian and the
        ``eps_c ~ N(0, corruption_std^2 I)``: it penalises the curvature of
        the encoder, flattening the learned manifold at the scale of
        ``corruption_std``. ``0`` (the default) skips it entirely. It is 0
        for ``activation="identity"``, whose Jacobian is constant.

    n_corruptions : int, default=4
        Number of corruptions ``eps_c`` per sample in the CAE+H term.

    corruption_std : float, default=0.1
        Standard deviation of the Gaussian corruptions, in the units of
        ``X``. The corruptions are drawn once per :meth:`fit` from
        ``random_state`` (L-BFGS sees a deterministic objective), block by
        block of 256 rows at each evaluation, so they are never stored
        whole.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, compute its
        reconstruction score (as :meth:`score`) after every L-BFGS
        iteration, stop when it has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive iterations, and return the
        parameters with the best validation score.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping (split
        with ``random_state``). Only used if ``early_stopping=True``.

    n_iter_no_change : int, default=10
        Number of consecutive iterations without a validation improvement
        of at least ``tol`` after which training stops. Only used if
        ``early_stopping=True``.

    warm_start : bool, default=False
        If True, :meth:`fit` continues from the current parameters of a
        fitted model (for example along a path of ``contraction`` values)
        instead of a fresh initialisation. ``X`` must have the same
        features and ``n_components`` must not change (a ``ValueError``
        says so); changing ``tied_weights`` keeps ``components_`` (untying
        starts the decoder from it).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Encoder weights ``W``.

    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases ``b``.

    decoder_components_ : ndarray of shape (n_components, n_features)
        Decoder weights ``D``; equal to ``components_`` when
        ``tied_weights=True``.

    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases ``c``.

    loss_ : float
        Objective at the returned parameters, penalty, CAE+H and ``alpha``
        terms included (with ``early_stopping``: on the training part, at
        the best validation iteration).

    loss_curve_ : list of float
        Objective after each L-BFGS iteration of the last :meth:`fit`
        (all iterations run, also those after the best one).

    n_iter_ : int
        Number of L-BFGS iterations run by the last :meth:`fit`.

    validation_scores_ : list of float
        Validation score (minus the mean reconstruction loss on the
        held-out part) after each iteration. Only with
        ``early_stopping=True``, as in MLP.

    best_validation_score_ : float
        The best of ``validation_scores_``, the score of the returned
        parameters. Only with ``early_stopping=True``.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : Another unsupervised feature
        learner for data in ``[0, 1]``.
    sklearn.decomposition.PCA : The linear limit of a tied ``"identity"``
        contractive autoencoder.

    References
    ----------
    S. Rifai, P. Vincent, X. Muller, X. Glorot and Y. Bengio. Contractive
    auto-encoders: explicit invariance during feature extraction. ICML 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cae import ContractiveAutoencoder
    >>> X = np.random.RandomState(0).rand(50, 8)
    >>> cae = ContractiveAutoencoder(n_components=4, random_state=0).fit(X)
    >>> cae.transform(X).shape
    (50, 4)
    >>> cae.jacobian(X[:2]).shape
    (2, 4, 8)
    >>> directions, singular_values = cae.tangents(X[:2], n_directions=2)
    >>> directions.shape, singular_values.shape
    ((2, 2, 8), (2, 2))
    """

    # The HTML repr's "?" links to this class's API page (scikit-learn's
    # _HTMLDocumentationLinkMixin fills in the public module and the name).
    _doc_link_module = "sklearn_cae"
    _doc_link_template = DOCS_URL + "generated/{estimator_module}.{estimator_name}.html"

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "contraction": [Interval(Real, 0, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions({"squared_error", "cross_entropy"})],
        "tied_weights": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "working_memory": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "hessian_penalty": [Interval(Real, 0, None, closed="left")],
        "n_corruptions": [Interval(Integral, 1, None, closed="left")],
        "corruption_std": [Interval(Real, 0, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        n_components=100,
        *,
        contraction=0.1,
        activation="logistic",
        loss="squared_error",
        tied_weights=True,
        alpha=0.0,
        max_iter=200,
        tol=1e-4,
        max_fun=15000,
        working_memory=128,
        random_state=None,
        verbose=0,
        hessian_penalty=0.0,
        n_corruptions=4,
        corruption_std=0.1,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
    ):
        self.n_components = n_components
        self.contraction = contraction
        self.activation = activation
        self.loss = loss
        self.tied_weights = tied_weights
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.max_fun = max_fun
        self.working_memory = working_memory
        self.random_state = random_state
        self.verbose = verbose
        self.hessian_penalty = hessian_penalty
        self.n_corruptions = n_corruptions
        self.corruption_std = corruption_std
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start

    # ------------------------------------------------------------------ glue
    def _validate_X(self, X, *, reset):
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=reset,
        )
        if sp.issparse(X):
            X = X.tocsr()  # row chunks
        return X

    def _check_unit_interval(self, X):
        if self.loss != "cross_entropy":
            return
        values = X.data if sp.issparse(X) else X
        if values.size and (values.min() < 0 or values.max() > 1):
            raise ValueError(
                "loss='cross_entropy' needs X in [0, 1]; got values in "
                f"[{values.min():g}, {values.max():g}]. Scale X (for example "
                "with MinMaxScaler) or use loss='squared_error'."
            )

    def _chunk_rows(self, X, n_threads=1):
        # Rows per chunk such that the temporaries of n_threads chunks fit in
        # working_memory (per thread and row: 5 arrays of k values, and of n
        # values the decoder's output, the densified sparse row and
        # cross-entropy's two temporaries), at most _MAX_CHUNK_ROWS, all
        # chunks of about the same size and every thread getting as many.
        k, n = self.n_components, X.shape[1]
        row_bytes = X.dtype.itemsize * (5 * k + 4 * n) * n_threads
        rows = min(self._rows_in_working_memory(row_bytes), _MAX_CHUNK_ROWS)
        n_chunks = -(-X.shape[0] // rows)
        n_chunks = -(-n_chunks // n_threads) * n_threads
        return max(1, -(-X.shape[0] // n_chunks))

    def _rows_in_working_memory(self, row_bytes):
        """How many rows of ``row_bytes`` temporaries fit in working_memory (at least 1)."""
        return max(1, int(self.working_memory * 2**20 // row_bytes))

    def _n_threads(self, X):
        # Threads for the objective: as many as BLAS may use (so
        # threadpoolctl and joblib's limits hold), when there are enough
        # rows to share.
        if X.shape[0] < 2 * _MIN_ROWS_PER_THREAD:
            return 1
        blas = threadpoolctl.threadpool_info()
        limit = min((lib["num_threads"] for lib in blas if lib["user_api"] == "blas"), default=1)
        return max(1, min(limit, X.shape[0] // _MIN_ROWS_PER_THREAD))

    def _params(self, dtype=None):
        params = (
            self.components_,
            self.intercept_hidden_,
            self.decoder_components_,
            self.intercept_visible_,
        )
        return params if dtype is None else tuple(p.astype(dtype) for p in params)

    def _initial_theta(self, n_features, random_state):
        # Glorot-uniform, with scikit-learn MLP's factor for the logistic.
        k = self.n_components
        factor = 2.0 if self.activation == "logistic" else 6.0
        bound = np.sqrt(factor / (n_features + k))
        W = random_state.uniform(-bound, bound, (k, n_features))
        D = W if self.tied_weights else random_state.uniform(-bound, bound, (k, n_features))
        return _objective.pack(W, np.zeros(k), D, np.zeros(n_features), self.tied_weights)

    def _warm_theta(self):
        fitted_k = self.components_.shape[0]
        if fitted_k != self.n_components:
            raise ValueError(
                f"warm_start=True continues from the fitted parameters, which have "
                f"n_components={fitted_k}, but n_components={self.n_components}. "
                "Set warm_start=False to start afresh."
            )
        return _objective.pack(*self._params(), self.tied_weights)

    def _mean_reconstruction(self, X, theta):
        params = _objective.unpack(theta, X.shape[1], self.n_components, self.tied_weights)
        W, b, D, c = (p.astype(X.dtype) for p in params)
        return _objective.mean_reconstruction_loss(
            X, W, b, D, c, self.activation, self.loss, self._chunk_rows(X)
        )

    def _make_objective(self, X, random_state, workspace=None):
        """The function L-BFGS minimises: ``theta -> (J, grad)``."""
        n_threads = 1 if workspace is None else workspace.n_threads
        fun = functools.partial(
            _objective.loss_and_grad,
            X=X,
            n_components=self.n_components,
            activation=self.activation,
            loss=self.loss,
            tied=self.tied_weights,
            contraction=float(self.contraction),
            alpha=float(self.alpha),
            chunk_rows=self._chunk_rows(X, n_threads),
            workspace=workspace,
        )
        if self.hessian_penalty == 0:
            return fun
        # Drawn once per fit: every evaluation sees the same corruptions.
        self._corruption_seed = int(random_state.randint(np.iinfo(np.int32).max))
        # One corruption at a time: the dense chunk, its noise and ~8 (rows, k)
        # temporaries.
        row_bytes = X.dtype.itemsize * (8 * self.n_components + 2 * X.shape[1])
        hessian_term = functools.partial(
            _objective.hessian_penalty_and_grad,
            X=X,
            n_components=self.n_components,
            activation=self.activation,
            tied=self.tied_weights,
            hessian_penalty=float(self.hessian_penalty),
            n_corruptions=self.n_corruptions,
            corruption_std=float(self.corruption_std),
            seed=self._corruption_seed,
            chunk_rows=self._rows_in_working_memory(row_bytes),
        )

        def fun_with_hessian_term(theta):
            J, grad = fun(theta)
            J_h, grad_h = hessian_term(theta)
            return J + J_h, grad + grad_h

        return fun_with_hessian_term

    # ------------------------------------------------------------- training
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to ``X`` by L-BFGS on the contractive objective.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 data is trained in float32.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "components_")
        X = self._validate_X(X, reset=not warm)
        self._check_unit_interval(X)
        n_features = X.shape[1]
        random_state = check_random_state(self.random_state)
        if warm:
            theta0 = self._warm_theta()
        else:
            theta0 = self._initial_theta(n_features, random_state)
        X_val = None
        if self.early_stopping:
            X, X_val = train_test_split(
                X, test_size=self.validation_fraction, random_state=random_state
            )
        workspace = _objective.Workspace(self._n_threads(X))
        fun = _solvers.LastEvaluation(self._make_objective(X, random_state, workspace))
        progress = self._progress(X, X_val, fun)
        with workspace:
            result = _solvers.lbfgs(
                fun, theta0, progress, max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol
            )
        if result.status == 1:
            warnings.warn(
                "L-BFGS stopped before convergence: the iteration (max_iter="
                f"{self.max_iter}) or evaluation (max_fun={self.max_fun}) "
                "budget was reached. Increase max_iter or max_fun, or scale "
                "the data.",
                ConvergenceWarning,
                stacklevel=2,
            )

        theta, self.loss_ = result.theta, result.loss
        if progress.best_theta is not None:  # early stopping: the best iterate
            theta = progress.best_theta
            self.loss_ = progress.loss_curve[progress.best_iteration - 1]
        self._set_fitted(theta, n_features, X.dtype)
        self.loss_curve_ = progress.loss_curve
        self.n_iter_ = result.n_iter
        if self.early_stopping:
            self.validation_scores_ = progress.validation_scores
            self.best_validation_score_ = progress.best_score
        if self.verbose:
            reason = result.message
            if result.status == 99:
                reason = f"validation score not improved for {self.n_iter_no_change} iterations"
            summary = f"L-BFGS stopped after {self.n_iter_} iterations ({reason}) in "
            summary += f"{progress.elapsed:.2f} s; returned parameters: "
            if self.early_stopping:
                summary += f"iteration {progress.best_iteration}, validation score "
                summary += f"{self.best_validation_score_:.8f}, "
            rec = self._mean_reconstruction(X, theta)
            summary += f"objective {self.loss_:.8f}, reconstruction {rec:.8f}"
            print(summary)
        return self

    def _progress(self, X, X_val, fun):
        """The per-iteration bookkeeping: loss curve, early stopping, verbose lines."""

        def details(theta, J):
            rec = self._mean_reconstruction(X, theta)
            max_grad = np.max(np.abs(fun.grad_at(theta)))
            return f", reconstruction {rec:.8f}, penalty {J - rec:.8f}, max|grad| {max_grad:.3e}"

        def validation_score(theta):
            return -self._mean_reconstruction(X_val, theta)

        return _solvers.Progress(
            validation_score=None if X_val is None else validation_score,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            verbose=bool(self.verbose),
            details=details,
        )

    def _set_fitted(self, theta, n_features, dtype):
        """Set the fitted weights from the flat parameters ``theta``."""
        W, b, D, c = _objective.unpack(theta, n_features, self.n_components, self.tied_weights)
        self.components_ = W.astype(dtype)
        self.intercept_hidden_ = b.astype(dtype)
        self.decoder_components_ = self.components_ if self.tied_weights else D.astype(dtype)
        self.intercept_visible_ = c.astype(dtype)
        self._n_features_out = self.n_components

    # ------------------------------------------------------------ inference
    def transform(self, X):
        """Encode ``X``: the hidden representation ``h = f(X W^T + b)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
            Codes, in the dtype of the fitted model's input (float32 or
            float64).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        W, b, _, _ = self._params(X.dtype)
        return _objective.encode(X, W, b, self.activation)

    def inverse_transform(self, X):
        """Decode codes back to input space: the reconstruction ``R``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Decoder output: ``H D + c`` for ``loss="squared_error"``, its
            sigmoid for ``loss="cross_entropy"``.
        """
        check_is_fitted(self)
        H = check_array(X, dtype=[np.float64, np.float32])
        if H.shape[1] != self.n_components:
            raise ValueError(
                f"X has {H.shape[1]} columns, but {self.__class__.__name__} "
                f"has n_components={self.n_components}: inverse_transform "
                "expects codes as returned by transform."
            )
        _, _, D, c = self._params(H.dtype)
        return _objective.decode(H, D, c, self.loss)

    def _reconstruction_losses(self, X):
        """Validated ``X``'s per-sample reconstruction losses ``rec_i``,
        computed a chunk of rows at a time; shape ``(n_samples,)``."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        self._check_unit_interval(X)
        W, b, D, c = self._params(X.dtype)
        losses = np.empty(X.shape[0], dtype=X.dtype)
        chunk_rows = self._chunk_rows(X)
        for start in range(0, X.shape[0], chunk_rows):
            rows = slice(start, start + chunk_rows)
            X_chunk = _objective._dense(X[rows])
            Z = _objective.encode(X_chunk, W, b, self.activation) @ D + c
            losses[rows] = _objective.reconstruction_loss(X_chunk, Z, self.loss)
        return losses

    def score_samples(self, X):
        """Minus each sample's reconstruction loss (higher is more typical).

        An anomaly score: samples unlike the training data reconstruct
        badly and score low. ``score(X)`` is the mean of these values. The
        contraction penalty is not included.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-rec_i``: ``-0.5 * ||x_i - r_i||^2`` for
            ``loss="squared_error"``, minus the cross-entropy of ``x_i``
            and ``r_i`` for ``loss="cross_entropy"``, in the dtype of the
            fitted model's input (float32 or float64).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_cae import ContractiveAutoencoder
        >>> rng = np.random.RandomState(0)
        >>> t = rng.uniform(-1, 1, (200, 1))
        >>> X = np.hstack([t, 0.5 * t]) + 0.02 * rng.normal(size=(200, 2))
        >>> cae = ContractiveAutoencoder(
        ...     n_components=4, activation="tanh", random_state=0
        ... ).fit(X)
        >>> scores = cae.score_samples([[0.5, 0.25], [0.5, -0.25]])
        >>> bool(scores[0] > scores[1])  # on the line vs across it
        True
        """
        return -self._reconstruction_losses(X)

    def score(self, X, y=None):
        """Minus the mean per-sample reconstruction loss (higher is better).

        The mean of :meth:`score_samples`. The contraction penalty is not
        included, so scores of models with different ``contraction``
        compare their reconstructions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
        """
        return -float(np.mean(self._reconstruction_losses(X), dtype=np.float64))

    def jacobian(self, X):
        """Per-sample Jacobian of the encoder, ``dh/dx = diag(f'(a)) W``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Points at which to evaluate the Jacobian.

        Returns
        -------
        J : ndarray of shape (n_samples, n_components, n_features)
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        W, b, _, _ = self._params(X.dtype)
        return _objective.jacobian(X, W, b, self.activation)

    def tangents(self, X, n_directions):
        """Tangent directions of the learned manifold at each sample.

        The leading right-singular vectors of the encoder's Jacobian
        ``J(x) = diag(f'(a)) W``: the input directions the codes are most
        sensitive to, which a contractive model keeps for the directions
        along the data (as in the Manifold Tangent Classifier, Rifai et
        al., NIPS 2011). Computed by a small SVD per sample, a chunk of
        rows at a time (bounded by ``working_memory``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Points at which to evaluate the tangents.

        n_directions : int
            Number of directions per sample, at most
            ``min(n_components, n_features)``.

        Returns
        -------
        tangents : ndarray of shape (n_samples, n_directions, n_features)
            Orthonormal directions by decreasing singular value; the sign
            of each is fixed by making its largest-magnitude entry positive.

        singular_values : ndarray of shape (n_samples, n_directions)
            The corresponding singular values of ``J(x)``: how strongly the
            codes follow each direction.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        k, n = self.components_.shape
        if not (isinstance(n_directions, Integral) and 1 <= n_directions <= min(k, n)):
            raise ValueError(
                "n_directions must be an int in [1, min(n_components, n_features)] = "
                f"[1, {min(k, n)}]; got {n_directions!r}."
            )
        W, b, _, _ = self._params(X.dtype)
        # The Jacobian chunk, its SVD factors and the dense rows.
        row_bytes = X.dtype.itemsize * (3 * k * n + n)
        chunk_rows = self._rows_in_working_memory(row_bytes)
        return _objective.tangents(X, W, b, self.activation, n_directions, chunk_rows)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
