"""dagloop's runners given what Kedro's session gives them.

``kedro run --runner=dagloop.runner.X`` hands the runner Kedro's ``Pipeline``
and ``Node`` objects, Kedro's ``DataCatalog`` (``SharedMemoryDataCatalog`` for a
``ParallelRunner``), Kedro's pluggy hook manager and the session id as run id.
The whole command is exercised on a real project in tests/kedro_project; these
tests pin each piece down in process.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import subprocess
import sys
import textwrap
from typing import Any

import kedro.io as kio
import kedro.pipeline as kp
import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager

import dagloop.runner as dr


def _import_kedro_runner() -> Any:
    """``kedro.runner``, leaving this process's logging as it was.

    Importing it applies Kedro's default logging configuration (a rich handler on
    the root logger, the ``kedro`` logger at INFO), which would change what every
    later test in this process sees logged.
    """
    manager = logging.Logger.manager
    loggers = [logging.getLogger(), *manager.loggerDict.values()]
    saved = [
        (lg, lg.level, lg.handlers[:], lg.propagate, lg.disabled)
        for lg in loggers
        if isinstance(lg, logging.Logger)
    ]
    hooks = sys.excepthook, sys.displayhook  # rich installs its own
    import kedro.runner

    sys.excepthook, sys.displayhook = hooks
    for lg, level, handlers, propagate, disabled in saved:
        lg.setLevel(level)
        lg.handlers[:] = handlers
        lg.propagate, lg.disabled = propagate, disabled
    for lg in list(manager.loggerDict.values()):
        if isinstance(lg, logging.Logger) and lg not in loggers:  # made by Kedro
            lg.setLevel(logging.NOTSET)
            lg.handlers.clear()
            lg.propagate = True
    return kedro.runner


kr = _import_kedro_runner()
# What a Kedro session does first: load the installed plugins, dagloop's among
# them (checked for real in a child interpreter below).
importlib.import_module("dagloop.framework._kedro")

RUNNERS = [dr.SequentialRunner, dr.ThreadRunner, dr.ParallelRunner]


def double(x: int) -> int:
    return x * 2


def add(a: int, b: int) -> int:
    return a + b


async def fetch(x: int) -> dict[str, Any]:
    # Awaiting proves the node ran as a coroutine: Kedro's runners would save
    # the coroutine object itself.
    await asyncio.sleep(0)
    return {"value": x + 1, "task": asyncio.current_task() is not None}


def unwrap(fetched: dict[str, Any]) -> int:
    assert fetched["task"]
    return int(fetched["value"])


def fail(x: int) -> int:
    raise ValueError(f"bad input {x}")


def kedro_pipeline() -> kp.Pipeline:
    inner = kp.Pipeline(
        [
            kp.node(double, "x", "doubled", name="double"),
            kp.node(add, ["doubled", "params:offset"], "result", name="add"),
        ]
    )
    return kp.Pipeline(
        [
            kp.node(fetch, "params:start", "fetched", name="fetch", tags=["api"]),
            kp.node(unwrap, "fetched", "x", name="unwrap"),
            kp.pipeline(inner, namespace="calc", inputs={"x"}, parameters={"offset"}),
        ]
    )


def kedro_catalog(runner: type[dr.AbstractRunner]) -> kio.DataCatalog:
    # What Kedro's session builds for the runner (see KedroSession.run).
    catalog_class = (
        kio.SharedMemoryDataCatalog
        if isinstance(runner(), kr.ParallelRunner)
        else kio.DataCatalog
    )
    return catalog_class(
        {
            "params:start": kio.MemoryDataset(4),
            "params:offset": kio.MemoryDataset(100),
        }
    )


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, Any]] = []

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, run_id: str) -> None:
        self.calls.append(("before", node.name, type(node).__module__, run_id))

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:
        self.calls.append(("after", node.name, type(node).__module__, outputs))

    @hook_impl
    def on_node_error(self, error: Exception, node: Any) -> None:
        self.calls.append(("error", node.name, type(node).__module__, str(error)))

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Any) -> None:
        self.calls.append(("saved", node.name, type(node).__module__, dataset_name))


@pytest.mark.parametrize("runner", RUNNERS, ids=lambda r: r.__name__)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync-io", "async-io"])
def test_a_kedro_pipeline_runs_with_kedro_objects(
    runner: type[dr.AbstractRunner], is_async: bool
) -> None:
    recorder = Recorder()
    hooks = _create_hook_manager()
    hooks.register(recorder)
    catalog = kedro_catalog(runner)
    if runner is dr.ThreadRunner and is_async:  # Kedro's warning, as Kedro gives it
        with pytest.warns(UserWarning, match="doesn't support loading and saving"):
            chosen = runner(is_async=is_async)
    else:
        chosen = runner(is_async=is_async)

    outputs = chosen.run(kedro_pipeline(), catalog, hooks, run_id="session-1")

    assert {name: ds.load() for name, ds in outputs.items()} == {"calc.result": 110}
    names = [n.name for n in kedro_pipeline().nodes]
    befores = [c for c in recorder.calls if c[0] == "before"]
    assert sorted(c[1] for c in befores) == sorted(names)
    # Hooks get Kedro's own node objects, and the session's run id.
    assert {c[2] for c in recorder.calls} == {"kedro.pipeline.node"}
    assert {c[3] for c in befores} == {"session-1"}
    saved = {c[3] for c in recorder.calls if c[0] == "saved"}
    assert saved == {"fetched", "x", "calc.doubled", "calc.result"}


@pytest.mark.parametrize("runner", RUNNERS, ids=lambda r: r.__name__)
def test_a_kedro_nodes_failure_reaches_hooks_with_the_kedro_node(
    runner: type[dr.AbstractRunner],
) -> None:
    recorder = Recorder()
    hooks = _create_hook_manager()
    hooks.register(recorder)
    pipeline = kp.Pipeline([kp.node(fail, "params:start", "out", name="fail")])

    with pytest.raises(ValueError, match="bad input 4"):
        runner().run(pipeline, kedro_catalog(runner), hooks, run_id="s")

    assert ("error", "fail", "kedro.pipeline.node", "bad input 4") in recorder.calls


def test_the_same_outputs_as_kedros_own_runner() -> None:
    # Kedro cannot run the async node: compare on the sync part.
    pipeline = kedro_pipeline().only_nodes_with_namespaces(["calc"])

    def fresh() -> kio.DataCatalog:
        return kio.DataCatalog(
            {"x": kio.MemoryDataset(5), "params:offset": kio.MemoryDataset(1)}
        )

    theirs = kr.SequentialRunner().run(pipeline, fresh())
    ours = dr.ThreadRunner().run(pipeline, fresh())
    assert {k: v.load() for k, v in ours.items()} == {
        k: v.load() for k, v in theirs.items()
    }


def test_arun_takes_a_kedro_pipeline() -> None:
    async def main() -> dict[str, Any]:
        outputs = await dr.SequentialRunner().arun(
            kedro_pipeline(), kedro_catalog(dr.SequentialRunner)
        )
        return {name: ds.load() for name, ds in outputs.items()}

    assert asyncio.run(main()) == {"calc.result": 110}


def test_something_else_is_refused_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"pipeline should be a dagloop\.pipeline"):
        dr.SequentialRunner().run([double], kio.DataCatalog())


def _child(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter (registrations and logging are
    process-wide); return the lines it printed starting with "> " (Kedro
    logs to standard output too)."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [line[2:] for line in done.stdout.splitlines() if line.startswith("> ")]


def test_kedros_session_accepts_dagloops_runners_once_it_loads_its_plugins() -> None:
    # dagloop imported first: its runners are not Kedro's until Kedro loads
    # the plugins installed (the ``kedro.hooks`` entry point), as a session does.
    out = _child(
        """
        import dagloop.runner as dr
        import kedro.runner as kr
        from kedro.framework.hooks.manager import (
            _create_hook_manager, _register_hooks_entry_points)
        print(">", isinstance(dr.ThreadRunner(), kr.AbstractRunner))
        _register_hooks_entry_points(_create_hook_manager(), [])
        for runner in (dr.SequentialRunner, dr.ThreadRunner, dr.ParallelRunner,
                       dr.DaskRunner):
            print(">", runner.__name__, isinstance(runner(), kr.AbstractRunner))
        print(">", isinstance(dr.ParallelRunner(), kr.ParallelRunner),
              isinstance(dr.ThreadRunner(), kr.ParallelRunner))
        """
    )
    assert out == [
        "False",
        "SequentialRunner True",
        "ThreadRunner True",
        "ParallelRunner True",
        "DaskRunner True",
        "True False",
    ]


def test_kedro_imported_first_makes_dagloops_runners_kedros_on_import() -> None:
    # ``kedro run --runner=dagloop.runner.X`` imports the runner class by name.
    out = _child(
        """
        import kedro.runner as kr
        from kedro.utils import load_obj
        runner = load_obj("dagloop.runner.ThreadRunner", "kedro.runner")
        print(">", isinstance(runner(), kr.AbstractRunner))
        """
    )
    assert out == ["True"]


LOGGING_CHILD = """
    import logging, sys
    import kedro.io as kio, kedro.pipeline as kp
    from kedro.framework.hooks.manager import (
        _create_hook_manager, _register_hooks_entry_points)
    import dagloop.runner as dr

    hooks = _create_hook_manager()
    _register_hooks_entry_points(hooks, ["kedro-telemetry"])  # it needs a project

    # Then, as Kedro's default logging.yml does: a handler on the root, at
    # WARNING; the ``kedro`` logger at INFO, propagating. Plus a handler of the
    # project's own on the ``kedro`` logger.
    def printer(prefix):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter(prefix + "|%(name)s|%(message)s"))
        return handler

    root = logging.getLogger()
    root.handlers[:] = [printer("> root")]
    root.setLevel(logging.WARNING)
    kedro_logger = logging.getLogger("kedro")
    kedro_logger.setLevel(logging.INFO)
    kedro_logger.handlers[:] = [printer("> kedro")]
    {configure}
    hooks.hook.after_context_created(context=None)
    {later}
    hooks.hook.before_pipeline_run(run_params={{}}, pipeline=None, catalog=None)
    logging.getLogger("dagloop.test").debug("fine detail")
    pipeline = kp.Pipeline([kp.node(abs, "a", "b", name="absolute")])
    dr.SequentialRunner().run(pipeline, kio.DataCatalog({{"a": kio.MemoryDataset(-1)}}))
"""


def _logged(configure: str = "", later: str = "") -> list[str]:
    return _child(LOGGING_CHILD.format(configure=configure, later=later))


COMPLETED = "dagloop.runner.sequential_runner|Completed 1 out of 1 tasks"


def test_dagloops_records_reach_the_kedro_loggers_handlers_once() -> None:
    lines = _logged()
    running = "dagloop.pipeline.node|Running node: absolute: abs([a]) -> [b]"
    # Through the ``kedro`` logger's own handler, then the root's: once each.
    assert lines.count(f"kedro|{running}") == 1
    assert lines.count(f"root|{running}") == 1
    assert [line for line in lines if COMPLETED in line] == [
        f"kedro|{COMPLETED}",
        f"root|{COMPLETED}",
    ]
    assert not [line for line in lines if "fine detail" in line]  # DEBUG < INFO


def test_the_bridge_follows_the_kedro_loggers_level_when_a_run_starts() -> None:
    lines = _logged(later="kedro_logger.setLevel(logging.WARNING)")
    assert not [line for line in lines if line.split("|")[1].startswith("dagloop")]


def test_a_level_the_project_gives_dagloops_logger_later_is_kept() -> None:
    lines = _logged(later='logging.getLogger("dagloop").setLevel(logging.DEBUG)')
    assert "kedro|dagloop.test|fine detail" in lines


def test_a_project_that_configures_dagloops_logger_keeps_its_configuration() -> None:
    configure = (
        'logging.getLogger("dagloop").setLevel(logging.INFO); '
        'logging.getLogger("dagloop").addHandler(printer("> own"))'
    )
    lines = _logged(configure=configure)
    # Its own handler, then the root's as it propagates; never the kedro logger's.
    assert [line for line in lines if COMPLETED in line] == [
        f"own|{COMPLETED}",
        f"root|{COMPLETED}",
    ]
