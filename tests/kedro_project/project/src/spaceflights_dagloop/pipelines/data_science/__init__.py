"""Split, train and evaluate a price model; reused under two namespaces."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
