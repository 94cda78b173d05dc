"""A catalog written for kedro-datasets, against a real S3-compatible server.

moto's server mode runs on 127.0.0.1 for the module. The catalog and its
credentials come from YAML files as a Kedro project keeps them; the short types
(``pandas.CSVDataset``, ``pickle.PickleDataset``) give kedro-datasets' classes for
the ``s3://`` entries and dagloop's own for the local one.
"""

from __future__ import annotations

import asyncio
import pickle
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import kedro.io
import kedro_datasets.pandas
import kedro_datasets.pickle
import pandas as pd
import pytest
import yaml

import dagloop.io.pandas
from dagloop.io import DataCatalog
from dagloop.pipeline import node, pipeline
from dagloop.runner import SequentialRunner, ThreadRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

MOTO_SERVER = shutil.which("moto_server", path=str(Path(sys.executable).parent))
BUCKET = "dagloop-test"
KEY, SECRET = "testing-key", "testing-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """moto's server on a free port of 127.0.0.1, answering; a port taken
    between choosing and binding it (another process was quicker) means
    another try."""
    assert MOTO_SERVER, "moto_server not found: install moto[server] (dev extra)"
    for _ in range(5):
        port = _free_port()
        server = subprocess.Popen(
            [MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        with httpx.Client(trust_env=False, timeout=1) as client:  # no proxy
            while server.poll() is None and time.monotonic() < deadline:
                try:
                    client.get(endpoint)
                except httpx.TransportError:
                    time.sleep(0.05)
                else:
                    return server, endpoint
        server.kill()
        server.wait()
    raise RuntimeError("moto_server did not start on 127.0.0.1")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 for the module; stopped after."""
    server, endpoint = _start_moto()
    try:
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    """A boto3 client on a fresh, empty bucket."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def write_conf(conf: Path, endpoint: str, local: Path) -> None:
    """conf/base/catalog.yml and conf/local/credentials.yml, as in a Kedro project."""
    (conf / "base").mkdir(parents=True)
    (conf / "local").mkdir()
    (conf / "base" / "catalog.yml").write_text(
        f"""
cars:
  type: pandas.CSVDataset
  filepath: s3://{BUCKET}/raw/cars.csv
  credentials: dev_s3

model:
  type: pickle.PickleDataset
  filepath: s3://{BUCKET}/models/model.pkl
  versioned: true
  credentials: dev_s3

report:
  type: pandas.CSVDataset
  filepath: {local}
""",
        "utf-8",
    )
    (conf / "local" / "credentials.yml").write_text(
        f"""
dev_s3:
  key: {KEY}
  secret: {SECRET}
  client_kwargs:
    endpoint_url: {endpoint}
    region_name: us-east-1
""",
        "utf-8",
    )


def read_conf(conf: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    catalog = yaml.safe_load((conf / "base" / "catalog.yml").read_text("utf-8"))
    credentials = yaml.safe_load(
        (conf / "local" / "credentials.yml").read_text("utf-8")
    )
    return catalog, credentials


def train(cars: pd.DataFrame) -> dict[str, float]:
    return {"mean_speed": float(cars["speed"].mean()), "rows": float(len(cars))}


def report(model: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"metric": list(model), "value": list(model.values())})


PIPELINE = pipeline(
    [
        node(train, "cars", "model", name="train"),
        node(report, "model", "report", name="report"),
    ]
)

CARS = pd.DataFrame({"name": ["a", "b", "c"], "speed": [10, 20, 45]})


def put_cars(s3: Any) -> None:
    s3.put_object(
        Bucket=BUCKET, Key="raw/cars.csv", Body=CARS.to_csv(index=False).encode()
    )


def model_versions(s3: Any) -> list[str]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    return sorted(
        key.split("/")[2] for key in keys if key.startswith("models/model.pkl/")
    )


def test_a_run_reads_and_writes_s3_with_credentials_and_versions(
    s3: Any, s3_endpoint: str, tmp_path: Path
) -> None:
    put_cars(s3)
    write_conf(tmp_path / "conf", s3_endpoint, tmp_path / "report.csv")
    config, credentials = read_conf(tmp_path / "conf")

    catalog = DataCatalog.from_config(config, credentials)
    assert isinstance(catalog["cars"], kedro_datasets.pandas.CSVDataset)
    assert isinstance(catalog["model"], kedro_datasets.pickle.PickleDataset)
    assert isinstance(catalog["report"], dagloop.io.pandas.CSVDataset)
    assert catalog.filter(by_type=kedro_datasets.pandas.CSVDataset) == ["cars"]

    ThreadRunner().run(PIPELINE, catalog)

    (first,) = model_versions(s3)
    body = s3.get_object(Bucket=BUCKET, Key=f"models/model.pkl/{first}/model.pkl")
    expected = {"mean_speed": 25.0, "rows": 3.0}
    assert pickle.loads(body["Body"].read()) == expected
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "report.csv"), report(expected)
    )

    # A second run (a new catalog: a new save version) adds a version; a later
    # catalog loads the latest, and the earlier one on request.
    cars_2 = pd.concat([CARS, CARS.assign(speed=CARS["speed"] * 3)])
    s3.put_object(
        Bucket=BUCKET, Key="raw/cars.csv", Body=cars_2.to_csv(index=False).encode()
    )
    SequentialRunner(is_async=True).run(
        PIPELINE, DataCatalog.from_config(config, credentials)
    )
    versions = model_versions(s3)
    assert len(versions) == 2
    assert versions[0] == first

    reader = DataCatalog.from_config(config, credentials)
    assert reader.load("model") == {"mean_speed": 50.0, "rows": 6.0}
    pinned = DataCatalog.from_config(
        config, credentials, load_versions={"model": first}
    )
    assert pinned.load("model") == expected

    # Kedro's own catalog, from the same files, reads the same.
    theirs = kedro.io.DataCatalog.from_config(config, credentials)
    assert theirs.load("model") == reader.load("model")
    pd.testing.assert_frame_equal(theirs.load("cars"), reader.load("cars"))


def test_arun_reads_and_writes_s3(s3: Any, s3_endpoint: str, tmp_path: Path) -> None:
    put_cars(s3)
    write_conf(tmp_path / "conf", s3_endpoint, tmp_path / "report.csv")
    config, credentials = read_conf(tmp_path / "conf")

    async def main() -> None:
        catalog = DataCatalog.from_config(config, credentials)
        await ThreadRunner().arun(PIPELINE, catalog)
        assert await catalog.aexists("model")
        assert await catalog.aload("model") == {"mean_speed": 25.0, "rows": 3.0}

    asyncio.run(main())
    assert len(model_versions(s3)) == 1
