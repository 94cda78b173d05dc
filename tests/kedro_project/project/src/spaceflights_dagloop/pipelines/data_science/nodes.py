"""A linear price model fitted by least squares (numpy, so no scikit-learn)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def split_data(
    data: pd.DataFrame, parameters: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Split the features and the price into train and test sets at random."""
    rng = np.random.default_rng(parameters["random_state"])
    order = rng.permutation(len(data))
    n_test = round(len(data) * parameters["test_size"])
    test, train = data.iloc[order[:n_test]], data.iloc[order[n_test:]]
    features = parameters["features"]
    return train[features], test[features], train["price"], test["price"]


def _design_matrix(x: pd.DataFrame) -> np.ndarray:
    return np.column_stack([np.ones(len(x)), x.to_numpy(dtype=float)])


def train_model(x_train: pd.DataFrame, y_train: pd.Series) -> dict[str, Any]:
    """Fit price = intercept + features @ coefficients by least squares."""
    solution, *_ = np.linalg.lstsq(
        _design_matrix(x_train), y_train.to_numpy(dtype=float), rcond=None
    )
    return {
        "features": list(x_train.columns),
        "intercept": float(solution[0]),
        "coefficients": solution[1:],
    }


def evaluate_model(
    regressor: dict[str, Any], x_test: pd.DataFrame, y_test: pd.Series
) -> tuple[dict[str, float], pd.DataFrame]:
    """Score the model on the test set; return its metrics and predictions."""
    coefficients = np.concatenate([[regressor["intercept"]], regressor["coefficients"]])
    predicted = _design_matrix(x_test[regressor["features"]]) @ coefficients
    actual = y_test.to_numpy(dtype=float)
    residuals = actual - predicted
    metrics = {
        "r2_score": float(
            1 - (residuals**2).sum() / ((actual - actual.mean()) ** 2).sum()
        ),
        "mae": float(np.abs(residuals).mean()),
        "max_error": float(np.abs(residuals).max()),
        "test_rows": len(actual),
    }
    predictions = pd.DataFrame(
        {"row": x_test.index, "price": actual, "predicted_price": predicted}
    )
    return metrics, predictions
