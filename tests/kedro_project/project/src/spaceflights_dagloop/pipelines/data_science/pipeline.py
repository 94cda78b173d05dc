"""One modular pipeline, instantiated under two namespaces with their own parameters."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_model, split_data, train_model


def create_pipeline(**kwargs: Any) -> Pipeline:
    pipeline_instance = Pipeline(
        [
            Node(
                func=split_data,
                inputs=["model_input_table", "params:model_options"],
                outputs=["X_train", "X_test", "y_train", "y_test"],
                name="split_data_node",
            ),
            Node(
                func=train_model,
                inputs=["X_train", "y_train"],
                outputs="regressor",
                name="train_model_node",
            ),
            Node(
                func=evaluate_model,
                inputs=["regressor", "X_test", "y_test"],
                outputs=["metrics", "predictions"],
                name="evaluate_model_node",
            ),
        ]
    )
    active = Pipeline(
        pipeline_instance,
        inputs="model_input_table",
        namespace="active_modelling_pipeline",
    )
    candidate = Pipeline(
        pipeline_instance,
        inputs="model_input_table",
        namespace="candidate_modelling_pipeline",
    )
    return active + candidate
