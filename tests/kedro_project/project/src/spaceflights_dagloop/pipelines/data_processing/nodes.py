"""The spaceflights tutorial's preprocessing, plus an async enrichment step."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def _is_true(x: pd.Series) -> pd.Series:
    return x == "t"


def _parse_percentage(x: pd.Series) -> pd.Series:
    return x.str.replace("%", "").astype(float) / 100


def _parse_money(x: pd.Series) -> pd.Series:
    return x.str.replace("$", "").str.replace(",", "").astype(float)


def preprocess_companies(companies: pd.DataFrame) -> pd.DataFrame:
    """Parse the companies' ``t``/``f`` flags and percentage ratings."""
    companies = companies.copy()
    companies["iata_approved"] = _is_true(companies["iata_approved"])
    companies["company_rating"] = _parse_percentage(companies["company_rating"])
    return companies


def preprocess_shuttles(shuttles: pd.DataFrame) -> pd.DataFrame:
    """Parse the shuttles' ``t``/``f`` flags and dollar prices."""
    shuttles = shuttles.copy()
    shuttles["d_check_complete"] = _is_true(shuttles["d_check_complete"])
    shuttles["moon_clearance_complete"] = _is_true(shuttles["moon_clearance_complete"])
    shuttles["price"] = _parse_money(shuttles["price"])
    return shuttles


async def _lookup_region(location: str, regions: dict[str, str]) -> str:
    # Stands in for a call to a geocoding service: yields to the event loop.
    await asyncio.sleep(0)
    return regions.get(location, "Unknown")


async def enrich_companies(
    companies: pd.DataFrame, regions: dict[str, str]
) -> pd.DataFrame:
    """Add each company's region, looked up one row at a time."""
    enriched = companies.copy()
    enriched["company_region"] = [
        await _lookup_region(location, regions)
        for location in companies["company_location"]
    ]
    return enriched


def create_model_input_table(
    shuttles: pd.DataFrame, companies: pd.DataFrame, reviews: pd.DataFrame
) -> pd.DataFrame:
    """Join shuttles, companies and reviews into one table, one row per shuttle."""
    rated_shuttles = shuttles.merge(reviews, left_on="id", right_on="shuttle_id")
    rated_shuttles = rated_shuttles.drop("id", axis=1)
    model_input_table = rated_shuttles.merge(
        companies, left_on="company_id", right_on="id"
    )
    return model_input_table.dropna()
