"""The guide's examples in examples/seed run, and produce the results they claim.

Scripts that use ``ParallelRunner`` run in a subprocess (``sys.executable``): its
worker processes import the ``__main__`` module to find the node functions, so the
example must be the main module. The others also run in this process, through
``runpy`` and their ``main()``, so their returned results can be checked directly.
Nothing here depends on machine speed: concurrency is observed through timestamps
recorded inside the nodes, never through a bound on the total time.
"""

from __future__ import annotations

import ast
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "seed"
SCRIPTS = sorted(path.stem for path in EXAMPLES.glob("*.py"))
EXPECTED_SCRIPTS = [
    "best_practices",
    "how_it_works",
    "incremental",
    "parallel",
    "patterns",
    "performance",
    "sequential",
    "thread_io",
    "troubleshooting",
    "use_cases",
]


# ------------------------------------------------------------------ helpers


class ScriptRun:
    """The outcome of ``python examples/seed/<name>.py --workdir <workdir>``."""

    def __init__(self, name: str, base: Path) -> None:
        self.workdir = base / "work"
        self.cwd = base / "cwd"  # stays empty: scripts write only to the workdir
        self.cwd.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if k != "DAGLOOP_EXAMPLES_WORKDIR"}
        self.process = subprocess.run(
            [
                sys.executable,
                "-W",
                "error",
                str(EXAMPLES / f"{name}.py"),
                "--workdir",
                str(self.workdir),
            ],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=50,
            check=False,
        )
        self.stdout = self.process.stdout
        self.stderr = self.process.stderr

    def value(self, prefix: str) -> Any:
        """The Python literal printed after ``prefix`` on the line starting with it."""
        for line in self.stdout.splitlines():
            if line.startswith(prefix):
                return ast.literal_eval(line[len(prefix) :].strip())
        raise AssertionError(f"no line starting with {prefix!r} in:\n{self._output}")

    def line(self, pattern: str) -> re.Match[str]:
        """The first stdout line matching the regex ``pattern``."""
        for line in self.stdout.splitlines():
            match = re.fullmatch(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r} in:\n{self._output}")

    @property
    def _output(self) -> str:
        return f"{self.stdout}\n--- stderr (exit {self.process.returncode}) ---\n{self.stderr}"


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ScriptRun]:
    """Runs an example once per module (later calls reuse the run)."""
    runs: dict[str, ScriptRun] = {}

    def run(name: str) -> ScriptRun:
        if name not in runs:
            runs[name] = ScriptRun(name, tmp_path_factory.mktemp(name))
        return runs[name]

    return run


def load_main(name: str) -> Callable[[list[str]], dict[str, Any]]:
    """The example's ``main``, its module run under a name other than __main__."""
    namespace = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="seed_example")
    main: Callable[[list[str]], dict[str, Any]] = namespace["main"]
    return main


def overlapped(span_a: tuple[float, float], span_b: tuple[float, float]) -> bool:
    """Each span started before the other one ended."""
    return span_a[0] < span_b[1] and span_b[0] < span_a[1]


def primes_below(limit: int) -> int:
    sieve = bytearray([1]) * limit
    sieve[:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(range(i * i, limit, i)))
    return sum(sieve)


# ----------------------------------------------------------- every script


def test_every_guide_section_has_a_script() -> None:
    assert SCRIPTS == EXPECTED_SCRIPTS


def test_readme_has_one_line_per_script() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    for name in SCRIPTS:
        lines = [line for line in readme.splitlines() if f"`{name}.py`" in line]
        assert len(lines) == 1, name


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_has_main_and_main_guard(name: str) -> None:
    tree = ast.parse((EXAMPLES / f"{name}.py").read_text())
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "main" in functions
    guard = tree.body[-1]
    assert isinstance(guard, ast.If)
    assert ast.unparse(guard.test) == "__name__ == '__main__'"
    assert ast.unparse(guard.body[0]) == "main()"


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_cleanly_as_main(
    name: str, script: Callable[[str], ScriptRun]
) -> None:
    run = script(name)
    assert run.process.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "Warning" not in run.stderr
    assert run.stdout.strip()
    assert list(run.cwd.iterdir()) == []


# -------------------------------------------------------------- sequential


def test_sequential(tmp_path: Path) -> None:
    result = load_main("sequential")(["--workdir", str(tmp_path)])
    assert result["outputs"] == ["my_output"]
    assert result["result"] == {"hello world": 2, "sequential runs are easy": 4}


# ---------------------------------------------------------------- parallel


def test_parallel_usage(script: Callable[[str], ScriptRun]) -> None:
    run = script("parallel")
    expected = primes_below(100_000)
    assert run.value("ParallelRunner(): my_output =") == expected
    assert run.value("ParallelRunner(max_workers=4): my_output =") == expected


def test_parallel_shared_memory_catalog(script: Callable[[str], ScriptRun]) -> None:
    run = script("parallel")
    assert run.value("SharedMemoryDataCatalog: output =") == [1, 4, 9]
    run.line(
        r"DataCatalog rejected: AttributeError: "
        r"'DataCatalog' object has no attribute 'validate_catalog'"
    )


def test_parallel_picklable_csv_dataset(script: Callable[[str], ScriptRun]) -> None:
    run = script("parallel")
    csv = run.workdir / "output.csv"
    assert csv.read_text() == "value,square\n1,1\n2,4\n3,9\n"
    assert csv.read_text() in run.stdout


def test_parallel_non_picklable_dataset(script: Callable[[str], ScriptRun]) -> None:
    run = script("parallel")
    run.line(r"pickle\.dumps\(DatabaseConnection\(\)\): .*sqlite3\.Connection.*")
    run.line(
        r"catalog\.validate_catalog\(\): The following datasets cannot be used "
        r"with multiprocessing: \['connection'\]"
    )


# ------------------------------------------------------------ how it works


def test_how_it_works_branches_overlap_in_separate_processes(
    script: Callable[[str], ScriptRun],
) -> None:
    run = script("how_it_works")
    match = run.line(
        r"process_a ran in pid (\d+), process_b in pid (\d+) \(runner in pid (\d+)\)"
    )
    pid_a, pid_b, runner_pid = match.groups()
    assert len({pid_a, pid_b, runner_pid}) == 3
    timeline = run.value("timeline =")
    assert overlapped(timeline["process_a"], timeline["process_b"])
    # combine waits for both branches.
    assert timeline["combine"] >= max(
        timeline["process_a"][1], timeline["process_b"][1]
    )
    run.line(
        rf"final = sum_of_squares: {sum(x * x for x in range(1, 1001))}, "
        rf"sum_of_cubes: {sum(x**3 for x in range(1, 1001))}"
    )


# --------------------------------------------------------------- thread io


def test_thread_io(tmp_path: Path) -> None:
    result = load_main("thread_io")(["--workdir", str(tmp_path)])
    usage = {
        "pages": 8,
        "characters": sum(
            len(f"<contents of https://example.com/{i}>") for i in range(8)
        ),
    }
    assert result["usage"] == {"default_workers": usage, "max_workers_8": usage}

    threaded = result["io_bound"]["thread_runner"]
    assert threaded["merged"] == {"source": "api_b"}
    # ThreadRunner(max_workers=2): the two 1 s fetches were in flight together.
    timeline = threaded["timeline"]
    assert overlapped(timeline["fetch_api_a"], timeline["fetch_api_b"])

    # SequentialRunner, for contrast: one fetch ended before the other started.
    sequential = result["io_bound"]["sequential_runner"]
    assert sequential["merged"] == {"source": "api_b"}
    timeline = sequential["timeline"]
    assert not overlapped(timeline["fetch_api_a"], timeline["fetch_api_b"])


# ------------------------------------------------------------- incremental


def test_incremental_runs_only_missing_outputs(tmp_path: Path) -> None:
    result = load_main("incremental")(["--workdir", str(tmp_path)])
    assert result["first"]["ran"] == ["raw", "clean", "process", "train", "evaluate"]
    assert result["second"]["ran"] == []
    assert result["third"]["ran"] == ["evaluate"]
    assert result["metrics"] == {"mse": 0.0, "rows": 10}
    for name in ("raw_data", "clean_data", "features", "model", "metrics"):
        assert (tmp_path / f"{name}.json").is_file()


# --------------------------------------------------------------- use cases


def test_use_cases(script: Callable[[str], ScriptRun]) -> None:
    run = script("use_cases")
    values = range(200_000)
    assert run.value(
        "CPU-bound, ParallelRunner(max_workers=4): processing_report ="
    ) == {
        "count": 200_000,
        "sum": sum((v * v) % 9973 for v in values),
    }
    assert run.value("I/O-bound, ThreadRunner(max_workers=8): api_report =") == {
        f"/v1/items/{i}": 200 for i in range(8)
    }
    run.line(
        r"Mixed: preprocessing \(ParallelRunner\) produced \['test_rows', 'train_rows'\]; "
        r"training \(SequentialRunner\) produced model = "
        r"\{'slope': 2\.0, 'intercept': 1\.0\}, metrics = \{'mse': 0\.0, 'rows': 20\}"
    )
    run.line(
        r"Debugging, SequentialRunner: model = \{'slope': 2\.0, 'intercept': 1\.0\}, "
        r"metrics = \{'mse': 0\.0, 'rows': 20\}"
    )
    assert (run.workdir / "model.json").is_file()


# ------------------------------------------------------------- performance


def test_performance(script: Callable[[str], ScriptRun]) -> None:
    run = script("performance")
    run.line(r"1\. good: 2 layers, at most 3 node\(s\) at once; final = .*")
    assert run.value("1. good: 2 layers, at most 3 node(s) at once; final =") == {
        "a": 160,
        "b": 75,
        "c": 105,
    }
    assert run.value(
        "1. less_parallel: 4 layers, at most 1 node(s) at once; final ="
    ) == {
        "largest": 120,
        "total": 345,
    }
    cpu_count = os.cpu_count()
    assert run.value(f"2. ParallelRunner(max_workers={cpu_count}): final =") == {
        "a": 160,
        "b": 75,
        "c": 105,
    }
    assert run.value(f"2. ThreadRunner(max_workers={cpu_count * 2}): final =") == {
        "a": 160,
        "b": 75,
        "c": 105,
    }
    # CachedDataset: three nodes read expensive_data, the database is queried once.
    run.line(r"3\. without CachedDataset: ExpensiveDataset loaded 3 times")
    run.line(r"3\. with CachedDataset: ExpensiveDataset loaded 1 time\(s\)")
    assert run.value("3. outputs =") == {
        "n_rows": 7,
        "region_names": ["a", "b", "c"],
        "total": 340,
    }
    run.line(
        r"4\. first incremental run ran \['combine', 'process_region_a', "
        r"'process_region_b', 'process_region_c'\]; second ran nothing"
    )
    assert (run.workdir / "source.db").is_file()
    assert (run.workdir / "final.json").is_file()


# ---------------------------------------------------------------- patterns


def test_patterns(script: Callable[[str], ScriptRun]) -> None:
    run = script("patterns")
    cpu_count = os.cpu_count() or 1
    run.line(
        rf"get_optimal_workers: \{{'cpu': {cpu_count}, 'io': {cpu_count * 2}, "
        rf"'other': 1\}} .*"
    )
    small, large = 10_000, 1_500_000
    run.line(
        rf"ParallelRunner\(max_workers={cpu_count}\): rows={small}, "
        rf"checksum={sum(i % 7 for i in range(small))}, ran in a worker process: True"
    )
    run.line(
        rf"run_pipeline\(data_size={small}\): checksum={sum(i % 7 for i in range(small))}, "
        rf"ran in a worker process: False \(SequentialRunner\)"
    )
    run.line(
        rf"run_pipeline\(data_size={large}\): checksum={sum(i % 7 for i in range(large))}, "
        rf"ran in a worker process: True \(ParallelRunner\)"
    )


# --------------------------------------------------------- troubleshooting


def test_troubleshooting_pickle_error(script: Callable[[str], ScriptRun]) -> None:
    run = script("troubleshooting")
    report = {"players": 3, "total": 16}
    run.line(r"Problem: pickle\.dumps\(DatabaseConnection\) -> .*sqlite3\.Connection.*")
    run.line(
        r"Problem: validate_catalog\(\) -> The following datasets cannot be used "
        r"with multiprocessing: \['db'\]"
    )
    assert run.value("Solution 1: ThreadRunner() -> report =") == report
    assert (
        run.value(
            "Solution 2: PicklableDBDataset pickles and passes validate_catalog(); "
            "ParallelRunner() -> report ="
        )
        == report
    )
    assert (run.workdir / "scores.db").is_file()


def test_troubleshooting_profiling_and_runner_choice(
    script: Callable[[str], ScriptRun],
) -> None:
    run = script("troubleshooting")
    run.line(r"Sequential: \d+\.\d\ds, Parallel: \d+\.\d\ds")
    primes = primes_below(40_000)
    run.line(rf"prime_count: sequential {primes}, parallel {primes}")
    assert run.value("CPU-bound on ParallelRunner(): prime_count =") == primes
    assert run.value("I/O-bound on ThreadRunner(): replies =") == [
        f"REQUEST {i}" for i in range(4)
    ]


# ---------------------------------------------------------- best practices


def test_best_practices(script: Callable[[str], ScriptRun]) -> None:
    run = script("best_practices")

    def checksum(values: range) -> int:
        return sum((v * 2654435761) % 2**32 for v in values) % 1_000_003

    report = {
        "low": checksum(range(100_000)),
        "high": checksum(range(100_000, 200_000)),
    }
    assert run.value("1. SequentialRunner: report =") == report
    assert run.value("2. ParallelRunner (CPU part):") == report
    assert run.value("2. ThreadRunner (I/O part): report =") == report
    assert run.value("2. SequentialRunner (whole pipeline): report =") == report
    for runner in ("SequentialRunner", "ParallelRunner", "ThreadRunner"):
        run.line(rf"{runner}: \d+\.\d\ds")
    assert run.value("3. reports per runner:") == {
        "SequentialRunner": report,
        "ParallelRunner": report,
        "ThreadRunner": report,
    }
    assert (run.workdir / "report.json").is_file()
