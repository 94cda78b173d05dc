"""Timing, recording and reporting shared by the benchmark scenarios.

Engines are measured *interleaved* (dagloop, kedro, floor, dagloop, ...) so that a
machine that slows down mid-run penalises every engine alike; each figure is the
median of several repetitions, reported with its min and max. Ratios are ratios of
medians. Targets are dagloop's performance goals, checked against those ratios.

Every scenario script is a module with ``NAME``, ``TITLE``, ``add_arguments(parser)``
and ``measure(args, rec)``, and ends with ``scenario_main(...)`` under an
``if __name__ == "__main__":`` guard (worker processes import the main module).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import importlib
import importlib.metadata
import json
import logging
import logging.config
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence
    from types import ModuleType

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "out"
DEFAULT_REPS = 3
#: One logging configuration for every engine (and for Kedro's own
#: ``KEDRO_LOGGING_CONFIG``): WARNING and above only. Kedro configures INFO logging
#: with a rich handler when imported, which alone doubles its per-node cost.
LOGGING_CONFIG = HERE / "logging.json"
KEDRO_SERIES = "1.1."
TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"


# ------------------------------------------------------------------ recording


@dataclass
class Measurement:
    """All repetitions of one (scenario, engine, config, metric)."""

    scenario: str
    engine: str
    metric: str
    unit: str
    values: list[float] = field(default_factory=list)
    config: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(median=self.median, min=min(self.values), max=max(self.values))
        return data


@dataclass
class Ratio:
    """A ratio of two medians, e.g. dagloop / floor."""

    scenario: str
    label: str
    value: float


@dataclass
class Target:
    """One of dagloop's goals: ``measured <= limit`` (``passed`` None: not measured)."""

    scenario: str
    goal: str
    measured: float | None
    limit: float
    unit: str
    passed: bool | None


@dataclass
class Report:
    """Everything one scenario measured."""

    scenario: str
    title: str
    measurements: list[Measurement] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "title": self.title,
            "seconds": self.seconds,
            "measurements": [m.summary() for m in self.measurements],
            "ratios": [asdict(r) for r in self.ratios],
            "targets": [asdict(t) for t in self.targets],
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        keys = {"scenario", "engine", "metric", "unit", "values", "config"}
        return cls(
            scenario=data["scenario"],
            title=data["title"],
            seconds=data.get("seconds", 0.0),
            measurements=[
                Measurement(**{k: v for k, v in m.items() if k in keys})
                for m in data["measurements"]
            ],
            ratios=[Ratio(**r) for r in data["ratios"]],
            targets=[Target(**t) for t in data["targets"]],
            notes=list(data["notes"]),
        )


Key = tuple[str, str, str]  # (engine, config, metric)


class Recorder:
    """Collects one scenario's measurements, ratios, targets and notes."""

    def __init__(self, scenario: str, title: str) -> None:
        self.scenario = scenario
        self._report = Report(scenario, title)
        self._by_key: dict[Key, Measurement] = {}

    def add(
        self, engine: str, config: str, metric: str, value: float, unit: str
    ) -> None:
        key = (engine, config, metric)
        if key not in self._by_key:
            m = Measurement(self.scenario, engine, metric, unit, config=config)
            self._by_key[key] = m
            self._report.measurements.append(m)
        self._by_key[key].values.append(value)

    def median(self, engine: str, config: str, metric: str) -> float | None:
        m = self._by_key.get((engine, config, metric))
        return m.median if m and m.values else None

    def ratio(self, label: str, numerator: Key, denominator: Key) -> float | None:
        """Record ``median(numerator) / median(denominator)`` if both were measured."""
        num, den = self.median(*numerator), self.median(*denominator)
        if num is None or den is None or den == 0:
            return None
        value = num / den
        self._report.ratios.append(Ratio(self.scenario, label, value))
        return value

    def target(
        self, goal: str, measured: float | None, limit: float, unit: str
    ) -> None:
        passed = None if measured is None else measured <= limit
        self._report.targets.append(
            Target(self.scenario, goal, measured, limit, unit, passed)
        )

    def note(self, text: str) -> None:
        print(f"note: {text}", flush=True)
        self._report.notes.append(text)

    @property
    def report(self) -> Report:
        return self._report


# -------------------------------------------------------------------- timing


def timed(func: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """``(seconds, result)`` of ``func(*args)``, with the garbage collector paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = func(*args)
        return time.perf_counter() - start, result
    finally:
        gc.enable()


def timed_async(make: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """``(seconds, result)`` of awaiting ``make()`` inside a fresh ``asyncio.run``.

    The clock runs inside the loop, around the await only: the loop's start and
    close are left out, as for an application whose loop is already running. The
    garbage collector is paused, as in :func:`timed`.
    """

    async def clocked() -> tuple[float, Any]:
        start = time.perf_counter()
        result = await make()
        return time.perf_counter() - start, result

    _, (seconds, result) = timed(asyncio.run, clocked())
    return seconds, result


Row = tuple[str, float, str]  # (metric, value, unit)


@dataclass
class Case:
    """One engine in one configuration: ``run()`` measures it once."""

    engine: str
    config: str
    run: Callable[[], list[Row]]
    warmup: Callable[[], object] | None = None


def interleave(rec: Recorder, cases: Sequence[Case], reps: int) -> None:
    """Warm every case up once, then run rep 1 of every case, rep 2, ...

    A repetition that raises is retried once (the retry is noted in the report);
    if it fails again it is left out, noted, and the other cases go on.
    """
    for case in cases:
        if case.warmup is not None:
            case.warmup()
    for rep in range(1, reps + 1):
        for case in cases:
            rows = _attempt(rec, case, rep)
            if rows is None:
                continue
            shown = ", ".join(
                f"{metric} {fmt(value)} {unit}" for metric, value, unit in rows
            )
            print(
                f"  rep {rep}/{reps}  {case.engine:<8} {case.config:<32} {shown}",
                flush=True,
            )
            for metric, value, unit in rows:
                rec.add(case.engine, case.config, metric, value, unit)


def _attempt(rec: Recorder, case: Case, rep: int) -> list[Row] | None:
    what = f"{case.engine}, {case.config}, rep {rep}"
    try:
        return case.run()
    except Exception as first:
        rec.note(f"{what} raised {first!r}; retried once.")
    try:
        return case.run()
    except Exception as second:
        rec.note(f"{what} raised {second!r} again; left out.")
        return None


def check(condition: bool, what: str) -> None:
    """Fail loudly when an engine computed the wrong result (not an assert: -O)."""
    if not condition:
        raise RuntimeError(f"wrong result: {what}")


# ------------------------------------------------------------------- engines


def configure_logging() -> None:
    """WARNING level for every engine; Kedro reads the same file when imported."""
    os.environ["KEDRO_LOGGING_CONFIG"] = str(LOGGING_CONFIG)
    logging.config.dictConfig(json.loads(LOGGING_CONFIG.read_text()))


def kedro_problem() -> str | None:
    """Why Kedro cannot be measured, or None when Kedro 1.1.x is installed."""
    try:
        version = importlib.metadata.version("kedro")
    except importlib.metadata.PackageNotFoundError:
        return (
            "Kedro is not installed: Kedro rows are skipped "
            "(install the bench extra: pip install -e '.[bench]')."
        )
    if not version.startswith(KEDRO_SERIES):
        return (
            f"Kedro {version} is installed, not {KEDRO_SERIES}x: Kedro rows are "
            "skipped (install the bench extra: pip install -e '.[bench]')."
        )
    return None


@dataclass
class Engine:
    """An engine's ``pipeline``, ``io`` and ``runner`` modules (Kedro's layout)."""

    name: str
    pipeline: ModuleType
    io: ModuleType
    runner: ModuleType


def load_engine(name: str) -> Engine:
    return Engine(
        name,
        importlib.import_module(f"{name}.pipeline"),
        importlib.import_module(f"{name}.io"),
        importlib.import_module(f"{name}.runner"),
    )


def engines(rec: Recorder | None = None) -> list[Engine]:
    """dagloop, and Kedro when Kedro 1.1.x is installed (otherwise a note says so)."""
    found = [load_engine("dagloop")]
    problem = kedro_problem()
    if problem is None:
        found.append(load_engine("kedro"))
        configure_logging()  # Kedro's import reconfigured logging; same file, reapplied
    elif rec is not None:
        rec.note(problem)
    return found


def engine_names(rec: Recorder | None = None) -> list[str]:
    """Like :func:`engines`, without importing them (for subprocess scenarios)."""
    problem = kedro_problem()
    if problem is not None and rec is not None:
        rec.note(problem)
    return ["dagloop"] if problem else ["dagloop", "kedro"]


def run_worker(script: str | Path, *args: Any) -> dict[str, Any]:
    """Run ``script --worker args...`` in a fresh interpreter; its last stdout line (JSON)."""
    command = [sys.executable, str(script), "--worker", *map(str, args)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode:
        raise RuntimeError(
            f"{' '.join(command)} failed with exit code {done.returncode}"
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ----------------------------------------------------------------- reporting


def fmt(value: float | None) -> str:
    """Four significant digits, no exponent for everyday magnitudes."""
    if value is None:
        return DASH
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        digits = max(0, 3 - int(f"{abs(value):e}".split("e")[1]))
        return f"{value:.{digits}f}" if value else "0"
    return f"{value:.3e}"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="minutes"),
        "kedro": _version("kedro"),
        "dagloop": _version("dagloop"),
        "source": _source_state(),
    }


def _source_state() -> str | None:
    """The git commit of the measured source, and whether ``src`` has local edits."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"git {commit}" + (" + uncommitted changes in src/" if dirty else "")


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _with_unit(value: float | None, unit: str) -> str:
    return fmt(value) + (unit if unit == TIMES else f" {unit}")


def _mark(passed: bool | None) -> str:
    return {True: "✓", False: "✗", None: DASH}[passed]


def targets_table(targets: Iterable[Target], with_scenario: bool) -> list[str]:
    columns = ["dagloop target", "measured", "limit", ""]
    if with_scenario:
        columns.insert(0, "scenario")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for t in targets:
        cells = [
            t.goal,
            _with_unit(t.measured, t.unit),
            "≤ " + _with_unit(t.limit, t.unit),
            _mark(t.passed),
        ]
        if with_scenario:
            cells.insert(0, t.scenario)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def report_markdown(report: Report, level: int = 2) -> list[str]:
    """One scenario's section: notes, measurements, ratios, targets."""
    lines = [f"{'#' * level} {report.scenario}: {report.title}", ""]
    lines.extend(f"- {note}" for note in report.notes)
    if report.notes:
        lines.append("")
    if report.measurements:
        lines += [
            "| engine | configuration | metric | median | min | max | reps |",
            "|---|---|---|---|---|---|---|",
        ]
        lines.extend(
            f"| {m.engine} | {m.config} | {m.metric} | {fmt(m.median)} {m.unit} "
            f"| {fmt(min(m.values))} | {fmt(max(m.values))} | {len(m.values)} |"
            for m in report.measurements
        )
        lines.append("")
    if report.ratios:
        lines += ["| ratio of medians | value |", "|---|---|"]
        lines.extend(f"| {r.label} | {fmt(r.value)}{TIMES} |" for r in report.ratios)
        lines.append("")
    if report.targets:
        lines += targets_table(report.targets, with_scenario=False)
        lines.append("")
    return lines


def header_lines(title: str, info: dict[str, Any]) -> list[str]:
    return [
        f"# {title}",
        "",
        f"Measured {info['date']} on {info['cpu_count']} cores, Python {info['python']} "
        f"({info['platform']}); dagloop {info['dagloop']}"
        + (f" ({info['source']})" if info.get("source") else "")
        + f", Kedro {info['kedro'] or 'not installed'}.",
        "Medians of the repetitions, with min and max; engines interleaved rep by rep; "
        "ratios are ratios of medians. See README.md for what each scenario measures.",
        "",
    ]


def write_reports(reports: list[Report], out_dir: Path, title: str) -> Path:
    """Write ``results.json`` and ``results.md`` for ``reports``; return the table path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    info = machine()
    payload = {"machine": info, "reports": [r.to_json() for r in reports]}
    (out_dir / "results.json").write_text(
        json.dumps(payload, indent=2, ensure_ascii=False)
    )
    lines = header_lines(title, info)
    all_targets = [t for r in reports for t in r.targets]
    if len(reports) > 1 and all_targets:
        lines += ["## dagloop's targets", ""]
        lines += targets_table(all_targets, with_scenario=True)
        lines.append("")
    for report in reports:
        lines += report_markdown(report)
    path = out_dir / "results.md"
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


# -------------------------------------------------------------------- entry


def base_parser(description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(description=description, allow_abbrev=False)


def scenario_main(
    name: str,
    title: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    measure: Callable[[argparse.Namespace, Recorder], None],
    default_reps: int = DEFAULT_REPS,
) -> None:
    """Command line of one scenario script (run directly, or by run.py)."""
    parser = base_parser(title)
    parser.add_argument("--reps", type=int, default=default_reps, help="repetitions")
    parser.add_argument(
        "--out", type=Path, default=OUT_DIR / name, help="output folder"
    )
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # run.py's copy
    parser.add_argument("--lenient", action="store_true", help=argparse.SUPPRESS)
    add_arguments(parser)
    args, unknown = parser.parse_known_args()
    if unknown and not args.lenient:  # run.py passes every scenario's flags to all
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    configure_logging()
    rec = Recorder(name, title)
    start = time.perf_counter()
    measure(args, rec)
    report = rec.report
    report.seconds = time.perf_counter() - start
    table = write_reports([report], args.out, f"{name} benchmark")
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), ensure_ascii=False))
    print(f"{name}: {report.seconds:.0f} s; table: {table}", flush=True)
