"""The whole scikit-learn estimator contract, none marked as expected to fail."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_cae import ContractiveAutoencoder


@parametrize_with_checks(
    [
        ContractiveAutoencoder(n_components=5, max_iter=30, random_state=0),
        ContractiveAutoencoder(
            n_components=3,
            activation="tanh",
            tied_weights=False,
            alpha=0.1,
            max_iter=30,
            random_state=0,
        ),
        ContractiveAutoencoder(n_components=4, activation="relu", contraction=0.0, max_iter=30),
        ContractiveAutoencoder(
            n_components=3,
            hessian_penalty=0.5,
            early_stopping=True,
            max_iter=30,
            random_state=0,
        ),
        ContractiveAutoencoder(n_components=5, solver="adam", max_iter=30, random_state=0),
        ContractiveAutoencoder(
            n_components=3,
            solver="adam",
            batch_size=16,
            tied_weights=False,
            alpha=0.1,
            hessian_penalty=0.5,
            early_stopping=True,
            max_iter=10,
            random_state=0,
        ),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
