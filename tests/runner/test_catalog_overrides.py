"""A catalog's replaced ``load``/``save`` is what runs.

dagloop's catalog has async methods the runner calls directly; when code
replaces a sync one (a plugin's wrapper in a subclass, a test's mock on the
instance), the replacement must still see every call, as under Kedro.
"""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import pytest

from dagloop.io import DataCatalog, MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import node, pipeline
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner

RUNNERS = [SequentialRunner, ThreadRunner]


def count_up() -> Any:
    yield from range(3)


def double(x: int) -> int:
    return x * 2


GENERATOR = pipeline([node(count_up, None, "out", name="count_up")])
PLAIN = pipeline([node(double, "x", "y", name="double")])


@pytest.mark.parametrize("runner", RUNNERS, ids=lambda r: r.__name__)
def test_a_generator_nodes_chunks_go_through_a_replaced_save(runner: Any) -> None:
    catalog = DataCatalog({"out": MemoryDataset()})
    catalog.save = mock.Mock()  # type: ignore[method-assign]

    runner().run(GENERATOR, catalog)

    assert catalog.save.call_args_list == [mock.call("out", i) for i in range(3)]


def test_a_replaced_load_and_save_see_a_plain_nodes_io() -> None:
    catalog = DataCatalog({"x": MemoryDataset(4), "y": MemoryDataset()})
    real_load = catalog.load
    catalog.load = mock.Mock(side_effect=real_load)  # type: ignore[method-assign]
    catalog.save = mock.Mock()  # type: ignore[method-assign]

    asyncio.run(ThreadRunner().arun(PLAIN, catalog))

    catalog.load.assert_called_once_with("x")
    catalog.save.assert_called_once_with("y", 8)


class LoggingCatalog(DataCatalog):
    """A subclass overriding only the sync ``save``, as a plugin might."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saved: list[tuple[str, Any]] = []

    def save(self, ds_name: str, data: Any) -> None:
        self.saved.append((ds_name, data))
        super().save(ds_name, data)


class SharedLoggingCatalog(SharedMemoryDataCatalog, LoggingCatalog):
    """The same for ParallelRunner, which wants a shared-memory catalog."""


@pytest.mark.parametrize(
    ("runner", "catalog_class"),
    [
        (SequentialRunner, LoggingCatalog),
        (ThreadRunner, LoggingCatalog),
        (ParallelRunner, SharedLoggingCatalog),
    ],
    ids=["SequentialRunner", "ThreadRunner", "ParallelRunner"],
)
def test_a_subclass_overriding_save_sees_every_save(
    runner: Any, catalog_class: Any
) -> None:
    catalog = catalog_class({"x": MemoryDataset(4)})

    runner().run(PLAIN + GENERATOR, catalog)

    assert sorted(catalog.saved) == [("out", 0), ("out", 1), ("out", 2), ("y", 8)]
    assert catalog.load("y") == 8


class BothCatalog(LoggingCatalog):
    """Overrides the async one too: that one is called."""

    async def asave(self, ds_name: str, data: Any) -> None:
        self.saved.append(("async", ds_name))
        await super().asave(ds_name, data)


def test_a_subclass_overriding_both_gets_its_async_save_called() -> None:
    catalog = BothCatalog({"x": MemoryDataset(4)})

    SequentialRunner().run(PLAIN, catalog)

    assert catalog.saved == [("async", "y")]


@pytest.mark.parametrize("runner", RUNNERS, ids=lambda r: r.__name__)
def test_a_replaced_get_gives_the_datasets_a_run_uses(runner: Any) -> None:
    # Kedro's catalog finds every dataset through ``get``; code that patches it
    # (a test's mock, a plugin) decides where a run's data goes.
    catalog = DataCatalog()
    chunks = mock.Mock()
    catalog.get = mock.Mock(return_value=chunks)  # type: ignore[method-assign]

    runner().run(GENERATOR, catalog)

    assert chunks.save.call_args_list == [mock.call(i) for i in range(3)]


class RoutingCatalog(DataCatalog):
    """A subclass that sends one name to a dataset of its choice."""

    elsewhere = MemoryDataset()

    def get(self, key: str, *args: Any, **kwargs: Any) -> Any:
        if key == "y":
            return self.elsewhere
        return super().get(key, *args, **kwargs)


def test_a_subclass_overriding_get_routes_a_runs_saves() -> None:
    catalog = RoutingCatalog({"x": MemoryDataset(4)})

    asyncio.run(ThreadRunner().arun(PLAIN, catalog))

    assert RoutingCatalog.elsewhere.load() == 8


class SaveMixin:
    """An override that lives on a mixin, ahead of DataCatalog in the MRO."""

    saved: list[tuple[str, Any]]

    def save(self, ds_name: str, data: Any) -> None:
        self.saved.append((ds_name, data))
        super().save(ds_name, data)  # type: ignore[misc]


class MixedCatalog(SaveMixin, DataCatalog):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saved = []


def test_an_override_on_a_mixin_sees_every_save() -> None:
    catalog = MixedCatalog({"x": MemoryDataset(4)})

    SequentialRunner().run(PLAIN, catalog)

    assert catalog.saved == [("y", 8)]


def test_a_save_patched_on_the_class_sees_every_save() -> None:
    catalog = DataCatalog({"x": MemoryDataset(4)})

    with mock.patch.object(DataCatalog, "save") as save:
        ThreadRunner().run(PLAIN, catalog)

    save.assert_called_once_with("y", 8)


class Proxy:
    """A wrapper catalog: its own ``save``, everything else forwarded."""

    def __init__(self, inner: DataCatalog) -> None:
        self.inner = inner
        self.saved: list[str] = []

    def save(self, ds_name: str, data: Any) -> None:
        self.saved.append(ds_name)
        self.inner.save(ds_name, data)

    # Special methods are looked up on the type, never through __getattr__.
    def __contains__(self, ds_name: str) -> bool:
        return ds_name in self.inner

    def __getitem__(self, ds_name: str) -> Any:
        return self.inner[ds_name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_proxys_own_save_is_not_bypassed() -> None:
    proxy = Proxy(DataCatalog({"x": MemoryDataset(4)}))

    SequentialRunner().run(PLAIN, proxy)

    assert proxy.saved == ["y"]
    assert proxy.inner.load("y") == 8
