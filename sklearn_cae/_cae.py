"""ContractiveAutoencoder: parameters, validation, the L-BFGS driver and the
public methods. The math lives in ``_objective.py``."""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
import threadpoolctl
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _objective
from ._activations import ACTIVATIONS

_MAX_CHUNK_ROWS = 512
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
        ``0`` gives a plain autoencoder. The penalty scales with the
        square of the input scale, so scale the data (for example to
        ``[0, 1]`` or unit variance) before tuning it.

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
        samples. Chunks are at most 512 rows (cache-sized) whatever the
        bound; lower it to fit in less memory. The result depends on it
        only through floating-point summation order. Training uses as many threads as
        BLAS is allowed (``threadpoolctl.threadpool_limits`` and joblib's
        limits are respected), with one BLAS thread each.

    random_state : int, RandomState instance or None, default=None
        Seeds the Glorot-uniform initialisation of the weights. Pass an int
        for reproducible (bitwise identical) results.

    verbose : int, default=0
        If positive, print the objective at each iteration.

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
        Objective at the returned parameters, penalty and ``alpha`` term
        included.

    loss_curve_ : list of float
        Objective after each L-BFGS iteration.

    n_iter_ : int
        Number of L-BFGS iterations run.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`. Defined only when `X`
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
    """

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
        # cross-entropy's two temporaries), at most _MAX_CHUNK_ROWS (on an
        # idle machine ~500-row chunks measured 5-15% faster than ~2000-row
        # ones: the elementwise passes stay in cache), every thread getting
        # as many chunks.
        k, n = self.n_components, X.shape[1]
        row_bytes = X.dtype.itemsize * (5 * k + 4 * n) * n_threads
        rows = max(1, min(int(self.working_memory * 2**20 // row_bytes), _MAX_CHUNK_ROWS))
        n_chunks = -(-X.shape[0] // rows)
        n_chunks = -(-n_chunks // n_threads) * n_threads
        return max(1, -(-X.shape[0] // n_chunks))

    def _n_threads(self, X):
        # As many threads as BLAS may use (so threadpoolctl and joblib's
        # limits hold), when there are enough rows to share.
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
        X = self._validate_X(X, reset=True)
        self._check_unit_interval(X)
        n_features = X.shape[1]
        n_threads = self._n_threads(X)
        theta0 = self._initial_theta(n_features, check_random_state(self.random_state))
        kwargs = dict(
            n_components=self.n_components,
            activation=self.activation,
            loss=self.loss,
            tied=self.tied_weights,
            contraction=float(self.contraction),
            alpha=float(self.alpha),
            chunk_rows=self._chunk_rows(X, n_threads),
        )

        self.loss_curve_ = []

        def callback(intermediate_result):
            self.loss_curve_.append(float(intermediate_result.fun))
            if self.verbose:
                print(f"Iteration {len(self.loss_curve_)}, loss = {intermediate_result.fun:.8f}")

        with _objective.Workspace(n_threads) as workspace:
            result = scipy.optimize.minimize(
                functools.partial(_objective.loss_and_grad, X=X, workspace=workspace, **kwargs),
                theta0,
                method="L-BFGS-B",
                jac=True,
                callback=callback,
                options={"maxiter": self.max_iter, "maxfun": self.max_fun, "gtol": self.tol},
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

        W, b, D, c = _objective.unpack(result.x, n_features, self.n_components, self.tied_weights)
        self.components_ = W.astype(X.dtype)
        self.intercept_hidden_ = b.astype(X.dtype)
        self.decoder_components_ = self.components_ if self.tied_weights else D.astype(X.dtype)
        self.intercept_visible_ = c.astype(X.dtype)
        self.loss_ = float(result.fun)
        self.n_iter_ = int(result.nit)
        self._n_features_out = self.n_components
        return self

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

    def score(self, X, y=None):
        """Minus the mean per-sample reconstruction loss (higher is better).

        The contraction penalty is not included, so scores of models with
        different ``contraction`` compare their reconstructions.

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
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        self._check_unit_interval(X)
        W, b, D, c = self._params(X.dtype)
        return -_objective.mean_reconstruction_loss(
            X, W, b, D, c, self.activation, self.loss, self._chunk_rows(X)
        )

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
