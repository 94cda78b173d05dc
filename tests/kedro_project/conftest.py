"""A real Kedro project, made by ``kedro new`` and filled in from ``project/``.

``kedro new`` runs offline with the venv's own ``kedro`` (no starter is fetched:
``--tools=none --example=n``); the files under ``project/`` are then copied over
the generated ones (pipelines, catalog, parameters, settings with the project's
hooks), and the raw data is written from a seeded random generator.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.kedro_project._kedro import KEDRO, kedro_env

PACKAGE = "spaceflights_dagloop"
TEMPLATE = Path(__file__).parent / "project"
ROWS = 50
LOCATIONS = ["Niue", "Anguilla", "Russian Federation", "Barbados", "Sri Lanka"]
LOCATIONS += ["Malta", "Tuvalu"]  # Tuvalu has no region in parameters.yml


def _flags(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(["t", "f"], size=n)


def _with_gaps(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """``values`` as floats with about one in ten missing (the tutorial's dropna)."""
    return np.where(rng.random(len(values)) < 0.1, np.nan, values.astype(float))


def write_raw_data(raw: Path, seed: int = 2024) -> None:
    """Write companies.csv, shuttles.xlsx and reviews.parquet like the tutorial's."""
    rng = np.random.default_rng(seed)
    n_companies = ROWS // 2
    ratings = rng.integers(50, 101, size=n_companies)
    rating_gaps = rng.random(n_companies) < 0.1
    companies = pd.DataFrame(
        {
            "id": np.arange(1, n_companies + 1),
            "company_rating": [
                None if gap else f"{rating}%"
                for rating, gap in zip(ratings, rating_gaps, strict=True)
            ],
            "company_location": rng.choice(LOCATIONS, size=n_companies),
            "total_fleet_count": rng.integers(1, 10, size=n_companies),
            "iata_approved": _flags(rng, n_companies),
        }
    )
    engines = rng.integers(1, 5, size=ROWS)
    capacity = rng.integers(2, 12, size=ROWS)
    price = 500 + 300 * engines + 80 * capacity + rng.normal(0, 50, size=ROWS)
    shuttles = pd.DataFrame(
        {
            "id": np.arange(10_000, 10_000 + ROWS),
            "shuttle_type": rng.choice(["Type V5", "Type F5", "Type N7"], size=ROWS),
            "engine_vendor": rng.choice(["ThetaBase", "Banks", "PlasmaTech"], ROWS),
            "engines": engines,
            "passenger_capacity": capacity,
            "crew": _with_gaps(rng, rng.integers(1, 8, size=ROWS)),
            "d_check_complete": _flags(rng, ROWS),
            "moon_clearance_complete": _flags(rng, ROWS),
            "price": [f"${p:,.2f}" for p in price],
            "company_id": rng.integers(1, n_companies + 1, size=ROWS),
        }
    )
    reviews = pd.DataFrame(
        {
            "shuttle_id": shuttles["id"],
            "review_scores_rating": _with_gaps(rng, rng.integers(60, 101, ROWS)),
            "number_of_reviews": rng.integers(0, 200, size=ROWS),
            "reviews_per_month": rng.random(ROWS).round(2),
        }
    )
    raw.mkdir(parents=True)
    companies.to_csv(raw / "companies.csv", index=False)
    shuttles.to_excel(raw / "shuttles.xlsx", index=False, engine="openpyxl")
    reviews.to_parquet(raw / "reviews.parquet", index=False)


@pytest.fixture(scope="session")
def kedro_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pristine project with raw data, never run in place (tests copy it)."""
    parent = tmp_path_factory.mktemp("kedro_new")
    command = [KEDRO, "new", f"--name={PACKAGE}", "--tools=none", "--example=n"]
    completed = subprocess.run(
        [*command, "--telemetry=no"],
        cwd=parent,
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (project,) = parent.iterdir()
    assert (project / "src" / PACKAGE / "pipeline_registry.py").is_file()
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(TEMPLATE, project, dirs_exist_ok=True, ignore=ignore)
    write_raw_data(project / "data" / "01_raw")
    return project
