"""ContractiveAutoencoder: parameters, validation and the public methods.
Each public method picks the backend of its rows once (``_backends.pick``:
in this process, on a dask cluster or on a device), whose functions build the
objective and the sums from the kernels of ``_objective.py``; one fit is a
function of ``_training.py``, which returns what the estimator keeps."""

import copy
import functools
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from . import _backends, _objective, _training
from ._activations import ACTIVATIONS
from ._backends import finfo, inprocess, pick
from ._settings import Settings

#: Where the documentation is published; the HTML repr's "?" links to the
#: estimator's page under it, which docs/conf.py checks the build produces.
DOCS_URL = "https://sklearn-cae.readthedocs.io/en/stable/"
_UNIT_INTERVAL_ULPS = 4


def _all_or_nothing(fit):
    """Decorates a method that fits: if it raises (an error, or an interrupt
    outside the solver's own loop), the estimator's attributes are
    put back as they were, so the previous fitted state stays whole (or the
    estimator stays unfitted): never old weights with new ``n_features_in_``."""

    @functools.wraps(fit)
    def fit_or_restore(self, *args, **kwargs):
        state = self.__dict__.copy()
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    return fit_or_restore


class ContractiveAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Contractive autoencoder (Rifai et al., 2011) trained by L-BFGS or Adam.

    An autoencoder ``x -> h = f(W x + b) -> r = g(h D + c)`` whose training
    objective adds ``contraction * ||dh/dx||_F^2``, the squared Frobenius
    norm of the encoder's Jacobian, to the reconstruction loss. The penalty
    makes the codes insensitive to the directions in which the training
    data does not vary, so the model keeps the directions along the data
    manifold, and even an overcomplete model cannot learn the identity.

    The exact objective and its closed-form gradient are minimised by
    ``scipy.optimize.minimize(method="L-BFGS-B")`` on all rows at once
    (``solver="lbfgs"``; on a device, an L-BFGS written against the
    array's namespace), or by minibatch Adam (``solver="adam"``, which
    also offers :meth:`partial_fit` for data streamed in chunks).

    ``X`` may be a dask array or a dask DataFrame of numbers (with
    ``pip install ".[dask]"`` from a clone): its blocks of rows are then
    trained on where they live, the lazy methods return dask arrays and
    :meth:`score` sums block by block (see the user guide's "On a dask
    cluster").

    With scikit-learn's ``array_api_dispatch`` on (and ``SCIPY_ARRAY_API=1``
    in the environment), ``X`` may be a PyTorch tensor (on the CPU or a
    GPU), a CuPy array or an ``array_api_strict`` array: the model fits,
    transforms and scores in its namespace on its device, and its fitted
    arrays live there (see the user guide's "GPUs").

    Parameters
    ----------
    n_components : int, default=100
        Number of hidden units ``k``. May exceed the number of features
        (an overcomplete model): the penalty still prevents the identity.

    contraction : float, default=0.1
        Weight of the contractive penalty ``||dh/dx||_F^2`` per sample.
        ``0`` gives a plain autoencoder. Its right value grows with the
        input scale: the default suits data in ``[0, 1]``; for
        standardized data search upwards from about ``1`` (see the user
        guide's "Choosing the parameters").

    activation : {"logistic", "tanh", "softplus", "relu", "identity"}, \
            default="logistic"
        Hidden-unit activation ``f`` (scikit-learn MLP's names).
        ``"identity"`` with tied weights is a regularised PCA.

    loss : {"squared_error", "cross_entropy"}, default="squared_error"
        Reconstruction loss. ``"squared_error"`` pairs with a linear
        output and works on any real data; ``"cross_entropy"`` pairs with a
        sigmoid output and needs data in ``[0, 1]``: values outside it by
        at most 4 machine epsilons (the rounding errors of MinMaxScaler)
        are clipped, larger ones are an error. The default (with logistic
        units) needs scaled data (``StandardScaler`` or ``MinMaxScaler``):
        on raw features in the thousands the units saturate and learn
        nothing, and a fit says so with a warning. On scikit-learn's shipped
        datasets, scaled, no other activation/loss scored better by more
        than about one cross-validation standard deviation (see "Why
        these defaults" in the user guide's "Choosing the parameters").

    tied_weights : bool, default=True
        If True the decoder uses the encoder's weights (``D = W``), as in
        the paper; otherwise it has its own ``decoder_components_``.

    alpha : float, default=0.0
        L2 penalty on the weights, ``0.5 * alpha * ||W||^2`` (plus
        ``||D||^2`` when untied) divided by the rows of the objective it is
        part of, like MLP's ``alpha``: for L-BFGS (and ``loss_``), all
        ``n_samples`` rows; for Adam, each minibatch's rows, as MLP's
        stochastic solvers do. Adam's term therefore does not depend on
        how :meth:`partial_fit`'s stream is cut into chunks, and each
        minibatch's objective carries ``n_samples / batch_size`` times the
        weight decay of the objective on all rows.

    max_iter : int, default=1000
        Maximum number of L-BFGS iterations; for ``solver="adam"``, of
        epochs (passes over the data), as in MLP. A budget: training
        normally ends by ``tol`` first. A fit that reaches it while the
        objective still falls ends with a ``ConvergenceWarning`` that says
        how fast it fell.

    tol : float, default=1e-4
        Training stops, converged, when the objective (L-BFGS) or the epoch
        loss (Adam), or the validation score with ``early_stopping``, has
        not improved by at least ``tol`` times the data's baseline loss for
        ``n_iter_no_change`` consecutive iterations (MLP's rule for its
        stochastic solvers, in the data's units). The baseline loss is half
        the total variance of the training rows, the mean squared error of
        reconstructing every row by the mean row, so the rule does not
        depend on the scale of ``X``. L-BFGS also stops, converged, when an
        iteration leaves the objective exactly as it was; scipy's other
        tests are off. ``tol=0`` with ``n_iter_no_change`` above
        ``max_iter`` runs to ``max_iter``. The default stops default fits
        where further iterations no longer improved a downstream classifier
        (see "Stopping" in the user guide's "Choosing parameters").

    max_fun : int, default=15000
        Maximum number of objective evaluations (L-BFGS only).

    working_memory : float, default=128
        Upper bound, in MiB, on the memory that grows with the number of
        rows processed at once, all threads together: :meth:`fit`,
        :meth:`score` and :meth:`tangents` process the rows in chunks that
        fit in it, so what they allocate beyond the data, their output and
        arrays the size of the parameters (a few per thread, and L-BFGS's
        history of 10 pairs) stays within it whatever the number of
        samples. With ``hessian_penalty``, ``early_stopping`` or
        ``verbose``, :meth:`fit` gives half of it to the objective's
        buffers and half to what runs beside them. Chunks of :meth:`fit`
        are at most 2048 rows whatever the bound; lower it to fit in less
        memory. The result depends on it only through floating-point
        summation order. :meth:`transform` and :meth:`jacobian` are not
        bounded by it: they return arrays as large as their output.
        Training uses as many threads as BLAS is allowed
        (``threadpoolctl.threadpool_limits`` and joblib's limits are
        respected), each with one BLAS thread; fits running at
        once in several threads share that setting and do not change each
        other's thread count.

    random_state : int, RandomState instance or None, default=None
        Seeds the Glorot-uniform initialisation of the weights. Pass an int
        for reproducible results, bitwise identical for a given number of
        threads (which sets how the rows are split into chunks; see
        ``working_memory``).

    verbose : int, default=0
        If positive, print one line per L-BFGS iteration (iteration,
        objective, mean reconstruction loss, penalty = objective minus
        reconstruction, largest gradient component, validation score with
        ``early_stopping``, elapsed time) and a final summary line. The
        split costs one extra reconstruction pass per iteration, only
        when verbose. For Adam, one line per epoch (epoch, epoch loss,
        validation score, elapsed time) and the summary.

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
        ``random_state`` (L-BFGS sees a deterministic objective; Adam gets
        new ones for every minibatch), block by block of 256 rows at each
        evaluation, so they are never stored whole.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, compute its
        reconstruction score (as :meth:`score`) after every L-BFGS
        iteration or Adam epoch, stop when it has not improved by at least
        ``tol`` for ``n_iter_no_change`` consecutive iterations, and return
        the parameters with the best validation score. Not used by
        :meth:`partial_fit` (as MLP's).

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping (split
        with ``random_state``). Only used if ``early_stopping=True``.

    n_iter_no_change : int, default=10
        Number of consecutive iterations (Adam: epochs) without an
        improvement of at least ``tol`` after which training stops.

    warm_start : bool, default=False
        If True, :meth:`fit` continues from the current parameters of a
        fitted model (for example along a path of ``contraction`` values)
        instead of a fresh initialisation. ``X`` must have the same
        features and ``n_components`` must not change (a ``ValueError``
        says so); changing ``tied_weights`` keeps ``components_`` (untying
        starts the decoder from it). Changing ``solver`` is allowed: a few
        Adam epochs, then L-BFGS to polish. Adam's moments start afresh at
        each :meth:`fit` (as MLP's); :meth:`partial_fit` continues them.

    solver : {"lbfgs", "adam"}, default="lbfgs"
        ``"lbfgs"``: full-batch L-BFGS-B, one pass over all rows per
        evaluation. ``"adam"``: minibatch Adam (Kingma and Ba), many
        updates per pass; faster on many rows and the only solver of
        :meth:`partial_fit`. Each minibatch's loss and gradient are the
        same objective on its rows (``alpha``'s term included, divided by
        the minibatch's rows: see ``alpha``).

    batch_size : int or "auto", default="auto"
        Rows per Adam minibatch; ``"auto"`` is ``min(256, n_samples)``.
        Larger values are clipped to ``n_samples`` (with a warning). 256
        keeps an epoch's cost near one full-batch evaluation's; smaller
        batches reach a given objective in fewer epochs but each epoch
        costs more (measured in the user guide's "Choosing a solver").

    learning_rate_init : float, default=3e-3
        Adam's step size (MLP's default is 1e-3; 3e-3 reached L-BFGS's
        objective sooner, see the user guide's "Choosing a solver").

    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's decay rates of the first and second moment estimates, in
        ``[0, 1)``.

    epsilon : float, default=1e-8
        Adam's numerical stability term.

    shuffle : bool, default=True
        Whether Adam visits the rows in a new random order (from
        ``random_state``) at each epoch.

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
        the best validation iteration). After :meth:`partial_fit`, the
        epoch loss of its pass (MLP's, no extra pass over the chunk).

    loss_curve_ : list of float
        Objective after each L-BFGS iteration of the last :meth:`fit`
        (all iterations run, also those after the best one). For Adam, the
        epoch loss of each epoch: the mean of its minibatches' objectives,
        weighted by their rows; :meth:`partial_fit` appends one.

    n_iter_ : int
        Number of L-BFGS iterations (Adam epochs) run by the last
        :meth:`fit`; :meth:`partial_fit` adds one.

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

    Minibatch Adam, on data streamed in chunks:

    >>> stream = ContractiveAutoencoder(n_components=4, solver="adam", random_state=0)
    >>> for chunk in np.array_split(X, 5):
    ...     stream = stream.partial_fit(chunk)
    >>> stream.n_iter_, stream.transform(X).shape
    (5, (50, 4))
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
        "solver": [StrOptions(set(_training.SOLVERS))],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
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
        max_iter=1000,
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
        solver="lbfgs",
        batch_size="auto",
        learning_rate_init=3e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        shuffle=True,
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
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle

    # ------------------------------------------------------------------ glue
    def _check_unit_interval(self, backend, X):
        """With ``loss="cross_entropy"``, raise unless ``X`` is in [0, 1] up to
        rounding: values within ``_UNIT_INTERVAL_ULPS`` machine epsilons of
        it (MinMaxScaler's output overshoots 1 by up to two) are accepted,
        and clipped for the loss (``_objective.clip_unit_interval``)."""
        if self.loss != "cross_entropy" or (extremes := backend.extremes(X)) is None:
            return
        low, high = extremes
        slack = _UNIT_INTERVAL_ULPS * finfo(X.dtype).eps
        if low < -slack or high > 1 + slack:
            raise ValueError(
                "loss='cross_entropy' needs X in [0, 1]; got values in "
                f"[{low:.17g}, {high:.17g}]. Scale X, for example with "
                "MinMaxScaler(clip=True) (which also clips new data outside the range "
                "it was fitted on), or use loss='squared_error'."
            )

    def _settings(self):
        """The parameters as the frozen value the modules below take."""
        return Settings.from_params(self.get_params(deep=False))

    def _params(self, dtype=None, backend=inprocess):
        """``(W, b, D, c)``, in ``dtype`` if given (cast by ``backend``)."""
        params = (
            self.components_,
            self.intercept_hidden_,
            self.decoder_components_,
            self.intercept_visible_,
        )
        return params if dtype is None else tuple(backend.cast(p, dtype) for p in params)

    def _pick_for_model(self, X, method):
        """The backend of ``X`` for ``method`` of the fitted model. Rows of an
        Array API namespace, or a model fitted on such rows, need ``X`` of
        the model's namespace and device (scikit-learn's error otherwise)."""
        backend = pick(X)
        if _backends.is_array_api(backend) or not isinstance(self.components_, np.ndarray):
            _backends.check_model_namespace(X, self, method)
        return backend

    def _cast_to_model(self, backend, X):
        """A later partial_fit chunk in the model's dtype; an error, not an
        overflow to inf, for values beyond a float32 model's range."""
        dtype = self.components_.dtype
        if X.dtype != dtype and (extremes := backend.extremes(X)) is not None:
            largest = max(-float(extremes[0]), float(extremes[1]))
            limit = float(finfo(dtype).max)  # as Python floats: no cast to float32
            if largest > limit:
                raise ValueError(
                    f"partial_fit casts each chunk to the model's dtype {dtype} (that of its "
                    f"first chunk), but this chunk holds values up to {largest:.3g}, beyond "
                    f"{dtype}'s largest value {limit:.3g}. Scale X, or start the model from a "
                    f"{X.dtype} chunk."
                )
        return backend.cast(X, dtype)

    def _warm_theta(self, backend, incremental):
        fitted_k = self.components_.shape[0]
        if fitted_k != self.n_components:
            who, advice = "warm_start=True", "Set warm_start=False to start afresh."
            if incremental:
                who, advice = "partial_fit", "Call fit, or use a new estimator, to start afresh."
            raise ValueError(
                f"{who} continues from the fitted parameters, which have "
                f"n_components={fitted_k}, but n_components={self.n_components}. {advice}"
            )
        params = (backend.to_numpy(p) for p in self._params())
        return _objective.pack(*params, self.tied_weights)

    # ------------------------------------------------------------- training
    @_fit_context(prefer_skip_nested_validation=True)
    @_all_or_nothing
    def fit(self, X, y=None):
        """Fit the model to ``X`` by minimising the contractive objective.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, array API} of shape (n_samples, n_features)
            Training data. float32 data is trained in float32.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        ValueError
            If the objective or the parameters become non-finite (the data
            or the penalties too large for the dtype); the message says
            which overflowed.

        Warns
        -----
        ConvergenceWarning
            On every ending other than convergence or early stopping: the
            iteration or evaluation budget reached (the epoch budget for
            Adam), or L-BFGS-B stopping abnormally (its status and message
            are in the warning).
        UserWarning
            When the fitted codes end saturated (logistic or tanh units: 90 %
            of the codes of the first 1000 rows within 1e-6 of a bound), as
            on unscaled data: scale ``X``.

        Notes
        -----
        An interrupt (``KeyboardInterrupt``, Ctrl-C) while L-BFGS or Adam
        runs ends the fit as in MLP's stochastic solvers: a warning
        "Training interrupted by user." and the last iterate kept (for
        Adam, that of the last complete epoch, with its moments, step count
        and shuffling state, or the starting point if no epoch completed;
        the best validation iterate with ``early_stopping``), ``loss_``
        being its objective and ``n_iter_`` and ``loss_curve_`` counting
        the iterations completed. An error
        or an interrupt at any other moment propagates and leaves the
        estimator as it was before the call: fitted with the previous
        model, or unfitted.
        """
        return self._fit(X, incremental=False)

    @available_if(lambda est: _training.steps_on_minibatches(est.solver))
    @_fit_context(prefer_skip_nested_validation=True)
    @_all_or_nothing
    def partial_fit(self, X, y=None):
        """One epoch of Adam over ``X``, continuing from the current state.

        The first call initialises the parameters from ``random_state``;
        later calls continue from the current parameters and Adam's
        moments, so ``X`` can be streamed in chunks (for example slices of
        a ``np.memmap``), with memory for one chunk plus one minibatch's
        temporaries. Only available for ``solver="adam"``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, array API} of shape (n_samples, n_features)
            One chunk of training data, with the features of the first
            call.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.

        Notes
        -----
        As MLP's ``partial_fit``: no early stopping and no
        ConvergenceWarning; ``loss_`` is the pass's epoch loss (the mean of
        its minibatches' objectives). An interrupt during the pass warns
        "Training interrupted by user." and keeps the model as it was
        before the call (parameters, Adam's moments and step count, the
        shuffling state, ``n_iter_``, ``loss_curve_``), ``loss_`` being
        its objective on ``X``. Later chunks are cast to the dtype of the
        first. An error leaves the estimator as :meth:`fit` does.
        """
        return self._fit(X, incremental=True)

    def _fit(self, X, incremental):
        settings = self._settings()
        first_pass = not hasattr(self, "components_") or not (self.warm_start or incremental)
        method = "partial_fit" if incremental else "fit"
        backend = pick(X) if first_pass else self._pick_for_model(X, method)
        backend.check_settings(settings)
        X = backend.validate(self, X, reset=first_pass)
        if incremental and not first_pass:  # later chunks in the model's dtype, as MLP's
            X = self._cast_to_model(backend, X)
        X = backend.hold(X)  # on a cluster, the rows stay on the workers
        self._check_unit_interval(backend, X)
        if first_pass or not incremental:
            random_state = check_random_state(self.random_state)
        else:  # a copy: the estimator changes only once the pass succeeded
            random_state = copy.deepcopy(self._random_state)
        if first_pass:
            theta = _objective.initial_theta(
                X.shape[1], settings.n_components, settings.activation, settings.tied, random_state
            )
        else:
            theta = self._warm_theta(backend, incremental)
        adam_state = getattr(self, "_adam_state", None)
        outcome = _training.fit(backend, X, settings, theta, random_state, adam_state, incremental)
        self._keep(outcome, backend.parameters(outcome.theta, X, settings), incremental)
        if outcome.summary is not None:
            print(outcome.summary)
        return self

    def _keep(self, outcome, params, incremental):
        """Set the fitted attributes from a fit's ``outcome``, its parameters
        ``params = (W, b, D, c)`` where the rows are (``incremental``: a
        partial_fit pass, whose iterations add to the earlier ones)."""
        W, b, D, c = params
        self.components_ = W
        self.intercept_hidden_ = b
        self.decoder_components_ = W if self.tied_weights else D
        self.intercept_visible_ = c
        self._n_features_out = self.n_components
        self.loss_ = outcome.loss
        self._random_state = outcome.random_state
        self._adam_state = outcome.adam_state
        if outcome.corruption_seed is not None:
            self._corruption_seed = outcome.corruption_seed
        if incremental and hasattr(self, "loss_curve_"):
            self.loss_curve_ = self.loss_curve_ + outcome.loss_curve
            self.n_iter_ += outcome.n_iter
        else:
            self.loss_curve_ = outcome.loss_curve
            self.n_iter_ = outcome.n_iter
        if outcome.validation_scores is not None:
            self.validation_scores_ = outcome.validation_scores
            self.best_validation_score_ = outcome.best_validation_score

    # ------------------------------------------------------------ inference
    def transform(self, X):
        """Encode ``X``: the hidden representation ``h = f(X W^T + b)``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, array API} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        H : ndarray, dask array or Array API array of shape (n_samples, n_components)
            Codes, in the dtype of the fitted model's input (float32 or
            float64). It is computed whole, not in chunks: it and its
            temporaries (up to two more arrays of its shape) are not
            bounded by ``working_memory``.
        """
        check_is_fitted(self)
        backend = self._pick_for_model(X, "transform")
        X = backend.validate(self, X, reset=False)
        W, b, _, _ = self._params(X.dtype, backend)
        return backend.encode(X, W, b, self.activation)

    def inverse_transform(self, X):
        """Decode codes back to input space: the reconstruction ``R``.

        Parameters
        ----------
        X : array-like, dask array or Array API array of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray, dask array or Array API array of shape (n_samples, n_features)
            Decoder output: ``H D + c`` for ``loss="squared_error"``, its
            sigmoid for ``loss="cross_entropy"``.
        """
        check_is_fitted(self)
        backend = self._pick_for_model(X, "inverse_transform")
        H = backend.validate_codes(X)
        if H.shape[1] != self.n_components:
            raise ValueError(
                f"X has {H.shape[1]} columns, but {self.__class__.__name__} "
                f"has n_components={self.n_components}: inverse_transform "
                "expects codes as returned by transform."
            )
        _, _, D, c = self._params(H.dtype, backend)
        return backend.decode(H, D, c, self.loss)

    def score_samples(self, X):
        """Minus each sample's reconstruction loss (higher is more typical).

        An anomaly score: samples unlike the training data reconstruct
        badly and score low. ``score(X)`` is the mean of these values. The
        contraction penalty is not included.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, array API} of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        scores : ndarray, dask array or Array API array of shape (n_samples,)
            A lazy dask array for a dask ``X``, with its row chunks (for
            ``loss="cross_entropy"`` the range of ``X`` is checked at the
            call, which computes its extremes). ``-rec_i``: ``-0.5 * ||x_i - r_i||^2`` for
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
        check_is_fitted(self)
        backend = self._pick_for_model(X, "score_samples")
        X = backend.validate(self, X, reset=False)
        self._check_unit_interval(backend, X)
        return -backend.reconstruction_losses(X, self._params(X.dtype, backend), self._settings())

    def score(self, X, y=None):
        """Minus the mean per-sample reconstruction loss (higher is better).

        The mean of :meth:`score_samples`. The contraction penalty is not
        included, so scores of models with different ``contraction``
        compare their reconstructions. Rows are processed in chunks
        bounded by ``working_memory``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, array API} of shape (n_samples, n_features)
            Data to reconstruct.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        backend = self._pick_for_model(X, "score")
        X = backend.validate(self, X, reset=False)
        self._check_unit_interval(backend, X)
        return -backend.mean_reconstruction(X, self._params(X.dtype, backend), self._settings())

    def jacobian(self, X):
        """Per-sample Jacobian of the encoder, ``dh/dx = diag(f'(a)) W``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, array API} of shape (n_samples, n_features)
            Points at which to evaluate the Jacobian.

        Returns
        -------
        J : ndarray, dask array or Array API array of shape (n_samples, n_components, n_features)
            Computed whole, not in chunks: ``n_samples * n_components *
            n_features`` values, not bounded by ``working_memory``. For
            large inputs, call it on slices of rows (as the functions of
            :mod:`sklearn_cae.diagnostics` do) or use :meth:`tangents`.
        """
        check_is_fitted(self)
        backend = self._pick_for_model(X, "jacobian")
        X = backend.validate(self, X, reset=False)
        W, b, _, _ = self._params(X.dtype, backend)
        return backend.jacobian(X, W, b, self.activation)

    def tangents(self, X, n_directions):
        """Tangent directions of the learned manifold at each sample.

        The leading right-singular vectors of the encoder's Jacobian
        ``J(x) = diag(f'(a)) W``: the input directions the codes are most
        sensitive to, which a contractive model keeps for the directions
        along the data (as in the Manifold Tangent Classifier, Rifai et
        al., NIPS 2011). Computed by a small SVD per sample, a chunk of
        rows at a time: beyond its output, its memory is bounded by
        ``working_memory``. It runs on the host, in numpy: Array API input
        (and a model fitted on it) is copied to numpy, and numpy arrays
        come back.

        Parameters
        ----------
        X : {array-like, sparse matrix, array API} of shape (n_samples, n_features)
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
        backend = self._pick_for_model(X, "tangents")
        X = backend.validate(self, X, reset=False)
        params = self._params(X.dtype, backend)
        if _backends.is_array_api(backend):  # on the host, in numpy (a small SVD per row)
            X, params = backend.to_numpy(X), tuple(backend.to_numpy(p) for p in params)
        k, n = self.components_.shape
        is_count = isinstance(n_directions, Integral) and not isinstance(n_directions, bool)
        if not (is_count and 1 <= n_directions <= min(k, n)):
            raise ValueError(
                "n_directions must be an int in [1, min(n_components, n_features)] = "
                f"[1, {min(k, n)}]; got {n_directions!r}."
            )
        W, b, _, _ = params
        row_bytes = _objective.row_bytes("tangents", X, k)
        chunk_rows = inprocess.rows_in_working_memory(self.working_memory, row_bytes)
        return _objective.tangents(X, W, b, self.activation, n_directions, chunk_rows)

    def __getstate__(self):
        """What pickle, joblib and skops store: a model fitted on a device
        stores numpy arrays and where they lived, and loads back there
        (``_backends.array_api.portable_state``)."""
        return _backends.portable_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(_backends.restored_state(state))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.array_api_support = True
        return tags
