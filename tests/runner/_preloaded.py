"""A module the worker-pool tests ask workers to preload; it only gets imported."""
