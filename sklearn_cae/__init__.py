"""Contractive autoencoders for scikit-learn."""

from ._cae import ContractiveAutoencoder

__version__ = "0.1.0"

__all__ = ["ContractiveAutoencoder", "__version__"]
