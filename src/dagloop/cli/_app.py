"""The commands: each turns its options into library calls and its errors into
one clear message (exit status 2 for a user's error, 1 for a failed run)."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import dagloop
import dagloop.config  # OmegaConf: when missing, main() says what to install
from dagloop.cli._errors import user_errors
from dagloop.framework.project import Project, dataset_class, where_it_runs

if TYPE_CHECKING:
    from dagloop.pipeline import Pipeline
    from dagloop.runner import RunEvent


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _split_node_names(value: str | None) -> list[str]:
    """Comma-separated items, keeping commas inside ``[...]`` (Kedro's default
    node names, ``f([a,b]) -> [c]``, contain some; so do list values)."""
    names, current, depth = [], "", 0
    for char in (value or "") + ",":
        depth += char == "["
        depth -= char == "]"
        if char == "," and depth == 0:
            if current.strip():
                names.append(current.strip())
            current = ""
        else:
            current += char
    return names


def _params(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> dict[str, Any]:
    """``--params a=1,b.c=true``: values typed as YAML types them (OmegaConf's
    dot-list, as Kedro parses it); dotted keys nest."""
    from omegaconf import OmegaConf

    items = []
    for item in _split_node_names(value):  # a list value ([a,b]) keeps its commas
        key, equals, rest = item.partition("=")
        if not equals:
            raise click.BadParameter(f"'{item}' must be KEY=VALUE")
        if not key.strip():
            raise click.BadParameter(f"'{item}' has an empty key")
        items.append(f"{key.strip()}={rest}")
    container = OmegaConf.to_container(OmegaConf.from_dotlist(items))
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items()}


def _load_versions(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> dict[str, str]:
    versions = {}
    for item in _split(value):
        name, colon, version = item.partition(":")
        if not colon or not name or not version:
            raise click.BadParameter(
                f"'{item}' must be DATASET:VERSION, e.g. model:2024-01-31T10.00.00.000Z"
            )
        versions[name.strip()] = version.strip()
    return versions


def _project_options(func: Any) -> Any:
    """--pipeline, --conf-source and --env: what every command reads."""
    func = click.option(
        "--env", "-e", default=None, help="Environment over conf/base (default: local)."
    )(func)
    func = click.option(
        "--conf-source",
        default="conf",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The configuration folder.",
    )(func)
    return click.option(
        "--pipeline",
        "-p",
        "pipeline_spec",
        default=None,
        metavar="MODULE:ATTR|NAME",
        help="A Pipeline (or a function returning one) as module:attr, or a name "
        "in the registry named by [tool.dagloop] in pyproject.toml (default: "
        "its __default__).",
    )(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(dagloop.__version__, prog_name="dagloop")
@click.option("--verbose", "-v", is_flag=True, help="Show dagloop's INFO log lines.")
def cli(verbose: bool) -> None:
    """Run dagloop pipelines with configuration from conf/ (see docs/cli.md)."""
    _configure_logging(verbose)


@cli.command()
@_project_options
@click.option("--runner", "-r", default="SequentialRunner", show_default=True,
              help="SequentialRunner, ThreadRunner, ParallelRunner, DaskRunner, "
              "or a dotted path to a runner class.")  # fmt: skip
@click.option("--max-workers", type=click.IntRange(min=1), default=None,
              help="Threads or processes for the runner.")  # fmt: skip
@click.option("--async", "is_async", is_flag=True,
              help="Load a node's inputs and save its outputs concurrently.")  # fmt: skip
@click.option("--params", callback=_params, default=None, metavar="KEY=VALUE,...",
              help="Runtime parameters: override parameters, fill "
              "${runtime_params:...}. Dotted keys nest.")  # fmt: skip
@click.option("--tags", "-t", default=None, help="Only nodes with any of these tags.")
@click.option("--nodes", "-n", "node_names", default=None, help="Only these nodes.")
@click.option("--from-nodes", default=None, help="Start from these nodes.")
@click.option("--to-nodes", default=None, help="Stop at these nodes.")
@click.option("--from-inputs", default=None, help="Start from these datasets.")
@click.option("--to-outputs", default=None, help="Stop at these datasets.")
@click.option("--namespaces", default=None, help="Only nodes in these namespaces.")
@click.option("--only-missing-outputs", is_flag=True,
              help="Run only what is needed for persistent outputs that do not "
              "exist yet.")  # fmt: skip
@click.option("--load-versions", callback=_load_versions, default=None,
              metavar="DATASET:VERSION,...", help="Versions to load.")  # fmt: skip
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="A progress bar on a terminal, a line per node elsewhere.")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds the whole run may take.")  # fmt: skip
def run(
    pipeline_spec: str | None,
    conf_source: Path,
    env: str | None,
    runner: str,
    max_workers: int | None,
    is_async: bool,
    params: dict[str, Any],
    tags: str | None,
    node_names: str | None,
    from_nodes: str | None,
    to_nodes: str | None,
    from_inputs: str | None,
    to_outputs: str | None,
    namespaces: str | None,
    only_missing_outputs: bool,
    load_versions: dict[str, str],
    progress: bool,
    timeout: float | None,
) -> None:
    """Run a pipeline."""
    project = Project(conf_source=conf_source, env=env, runtime_params=params)
    with user_errors(project):
        pipeline = project.pipeline(pipeline_spec).filter(
            tags=_split(tags) or None,
            from_nodes=_split_node_names(from_nodes) or None,
            to_nodes=_split_node_names(to_nodes) or None,
            node_names=_split_node_names(node_names) or None,
            from_inputs=_split(from_inputs) or None,
            to_outputs=_split(to_outputs) or None,
            node_namespaces=_split(namespaces) or None,
        )
        options: dict[str, Any] = {"is_async": is_async} if is_async else {}
        if max_workers is not None:
            options["max_workers"] = max_workers
        chosen = project.runner(runner, **options)
        catalog = project.catalog(load_versions, runner=chosen)
    watch = _RunWatch()
    typed = click.get_current_context().find_root().obj or sys.argv[1:]
    with user_errors(project, watch=watch, resume=_resume_command(typed)):
        chosen.run(
            pipeline,
            catalog,
            only_missing_outputs=only_missing_outputs,
            timeout=timeout,
            on_event=watch,
            progress=progress,
        )


class _RunWatch:
    """Remembers what the CLI reports about a run: the failed node, the nodes
    to resume from, how many ran."""

    def __init__(self) -> None:
        self.failed: RunEvent | None = None
        self.resume_from: tuple[str, ...] | None = None

    def __call__(self, event: RunEvent) -> None:
        if event.kind == "node_failed" and self.failed is None:
            self.failed = event
        elif event.kind == "run_failed":
            self.resume_from = event.resume_from


def _resume_command(argv: list[str]) -> str:
    """The command as typed (its arguments, ``argv``) without ``--from-nodes``,
    which the hint gives anew; other selections still apply together."""
    skip = {"--from-nodes"}
    kept: list[str] = []
    args = iter(argv)
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in skip:
            if "=" not in arg:
                next(args, None)
            continue
        kept.append(arg)
    return shlex.join(["dagloop", *kept])  # to paste back into a shell


@cli.command(name="list")
@_project_options
def list_(pipeline_spec: str | None, conf_source: Path, env: str | None) -> None:
    """List a pipeline's nodes (tags, where they run) and datasets (types)."""
    project = Project(conf_source=conf_source, env=env)
    with user_errors(project):
        pipeline = project.pipeline(pipeline_spec)
        catalog = project.catalog()
    click.echo(f"Nodes ({len(pipeline.nodes)}):")
    for node in pipeline.nodes:
        tags = f"  tags: {', '.join(sorted(node.tags))}" if node.tags else ""
        click.echo(f"  {node.name}  [{where_it_runs(node)}]{tags}")
    names = sorted(pipeline.datasets())
    click.echo(f"Datasets ({len(names)}):")
    for name in names:
        click.echo(f"  {name}  {dataset_class(catalog, name)}")


@cli.command()
@_project_options
@click.option("--format", "-f", "fmt", type=click.Choice(["mermaid", "html"]),
              default="mermaid", show_default=True)  # fmt: skip
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write here instead of standard output.")  # fmt: skip
def viz(
    pipeline_spec: str | None,
    conf_source: Path,
    env: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Draw a pipeline: a Mermaid flowchart, or a self-contained HTML page."""
    from dagloop import viz as pictures

    project = Project(conf_source=conf_source, env=env)
    with user_errors(project):
        pipeline: Pipeline = project.pipeline(pipeline_spec)
    text = (
        pictures.mermaid(pipeline)
        if fmt == "mermaid"
        else pictures.pipeline_html(pipeline, title=pipeline_spec or "Pipeline")
    )
    if output is None:
        click.echo(text)
        return
    with user_errors(None):  # a folder that does not exist, say
        output.write_text(text, "utf-8")
    click.echo(f"Wrote {output}", err=True)


@cli.command()
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(file_okay=False, path_type=Path),
              default=Path(), show_default=True,
              help="Where to create the project's folder.")  # fmt: skip
def new(name: str, directory: Path) -> None:
    """Create a small project that `dagloop run` runs at once."""
    from dagloop.cli._new import create_project

    with user_errors(None):
        created = create_project(name, directory)
    click.echo(f"Created {created}. Try:\n  cd {created}\n  dagloop run")


def _configure_logging(verbose: bool) -> None:
    """Warnings (INFO with ``-v``) from dagloop on standard error; the runner's
    resume hint is left out, since the command prints it itself."""
    root = logging.getLogger()
    if not any(getattr(h, "dagloop_cli", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_not_the_resume_hint)
        handler.dagloop_cli = True  # type: ignore[attr-defined]  # added once
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("dagloop").setLevel(logging.INFO if verbose else logging.WARNING)


def _not_the_resume_hint(record: logging.LogRecord) -> bool:
    """Leave out what the command prints itself: the resume hint, and the
    failed node's error (its traceback and a summary follow the run)."""
    from dagloop.runner.runner import NO_NODES_RAN, RESUME_HINT

    if record.name == "dagloop.pipeline.node" and record.levelno == logging.ERROR:
        return False
    return record.msg not in (NO_NODES_RAN, RESUME_HINT)
