"""The package's shape: modules of at most 400 lines, imports one way between its layers,
and nothing heavy imported by `import kungfu_rl` or by `kungfu --help` and `--version`."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "kungfu_rl"
MAX_LINES = 400

RANKS = {
    "config": 0,
    "runtime": 1,
    "envs": 2,
    "agent": 3,
    "algo": 4,
    "play": 4,
    "runs": 4,
    "training": 5,
    "cli": 6,
    "": 7,  # the package itself: __init__.py (the notebook's names) and __main__.py
}
"""A module may import its own layer and the layers of a lower rank, never a higher one nor
another layer of its own rank: cli -> training -> (algo, play, runs) -> agent -> envs ->
runtime -> config. The root's rank is the highest, so that no layer imports it."""

HEAVY = {"torch", "ale_py", "gymnasium", "cv2"}
"""What the config layer never imports, so that a command can check its settings first."""

MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """kungfu_rl.runs.files -> "runs"; kungfu_rl and kungfu_rl.__main__ -> ""."""
    parts = module.split(".")
    if len(parts) == 1 or not (PACKAGE / parts[1]).is_dir():
        return ""
    return parts[1]


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, anywhere in it (functions and TYPE_CHECKING blocks
    included), absolute: (line, module). `from kungfu_rl import runs` names kungfu_rl.runs."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for a in node.names:
                sub = f"{module}.{a.name}"
                is_module = module.startswith("kungfu_rl") and (
                    (PACKAGE.parent / sub.replace(".", "/")).is_dir()
                    or (PACKAGE.parent / (sub.replace(".", "/") + ".py")).is_file()
                )
                found.append((node.lineno, sub if is_module else module))
    return found


def test_the_layers_are_the_ranked_ones():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert folders | {""} == set(RANKS), "a subpackage without a rank, or a rank without one"
    loose = {p.name for p in PACKAGE.glob("*.py")}
    assert loose == {"__init__.py", "__main__.py"}, f"modules outside the layers: {loose}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_400_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(path):
    layer = layer_of(module_name(path))
    for line, module in imports(path):
        where = f"{path.relative_to(PACKAGE)}:{line} imports {module}"
        if module == "kungfu_rl" or module.startswith("kungfu_rl."):
            other = layer_of(module)
            assert other == layer or RANKS[other] < RANKS[layer], where
        elif layer == "config":
            assert module.split(".")[0] not in HEAVY, where


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if p.name != "__init__.py"],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_only_a_package_init_gives_another_modules_names(path):
    """`from .x import name as name` says "this module offers name": only an __init__ may."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            again = [a.name for a in node.names if a.asname == a.name]
            assert not again, f"{path.relative_to(PACKAGE)}:{node.lineno} re-exports {again}"


@pytest.mark.parametrize(
    "path",
    [PACKAGE / "__init__.py", *sorted((PACKAGE / "cli").glob("*.py"))],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_the_command_lines_top_level_imports_the_standard_library_and_config_only(path):
    """The commands import training, evaluation and the rest inside their functions."""
    allowed = {"kungfu_rl.config", "kungfu_rl.cli", "kungfu_rl.runtime.versions"}
    for node in ast.parse(path.read_text()).body:  # not in functions, nor TYPE_CHECKING
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            module = getattr(node, "module", None) or ""
            if isinstance(node, ast.ImportFrom) and node.level:
                package = module_name(path) if path.name == "__init__.py" else "kungfu_rl.cli"
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names = [".".join(base + ([module] if module else []))]
            elif isinstance(node, ast.ImportFrom):
                names = [module]
            for name in names:
                where = f"{path.relative_to(PACKAGE)}:{node.lineno} imports {name}"
                if name.startswith("kungfu_rl"):
                    assert any(name == a or name.startswith(a + ".") for a in allowed), where
                else:
                    root = name.split(".")[0]
                    assert root in sys.stdlib_module_names or root == "__future__", where


def test_checks_see_every_kind_of_import():
    """The import walk above finds relative, absolute and function-level imports."""
    found = {m for _, m in imports(PACKAGE / "cli" / "play.py")}
    assert "kungfu_rl.cli.parser" in found  # from .parser import UsageError
    assert "kungfu_rl.runs.loading" in found  # inside a function, and under TYPE_CHECKING
    assert "torch" in found  # import torch, inside a function
    versions = {m for _, m in imports(PACKAGE / "runtime" / "versions.py")}
    assert "kungfu_rl" not in versions  # its version is its own, not the root's


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_import_kungfu_rl_imports_no_torch():
    result = run("import kungfu_rl, sys; assert 'torch' not in sys.modules, 'torch'")
    assert result.returncode == 0, result.stderr


def test_the_notebooks_names_come_from_the_package_when_asked_for():
    result = run(
        "import sys, kungfu_rl\n"
        "from kungfu_rl import make_env, RecurrentAgent, EnvPool, evaluate, train_on_rollout\n"
        "from kungfu_rl import Config, UpdateSettings, ReturnNormalizer, load_agent\n"
        "from kungfu_rl import train, resume\n"
        "assert callable(evaluate) and callable(train) and callable(resume), 'not functions'\n"
        "assert len(set(kungfu_rl.__all__)) == len(kungfu_rl.__all__) == 11, kungfu_rl.__all__\n"
        "for name in kungfu_rl.__all__:\n"
        "    assert getattr(kungfu_rl, name) is not None, name\n"
        "print(kungfu_rl.__version__)\n"
    )
    assert result.returncode == 0, result.stderr
    bad = run("import kungfu_rl; kungfu_rl.no_such_name")
    assert "AttributeError" in bad.stderr and "no_such_name" in bad.stderr


@pytest.mark.parametrize(
    "argv", [["--version"], ["--help"], ["train", "--help"], ["eval", "--help"], ["games", "-x"]]
)
def test_kungfu_answers_help_and_version_without_torch(argv):
    """`python -m kungfu_rl ...` with torch, ale-py and gymnasium made unimportable."""
    blocked = "; ".join(f"sys.modules[{m!r}] = None" for m in sorted(HEAVY))
    result = run(
        f"import runpy, sys; {blocked}; sys.argv = ['kungfu', *{argv!r}]; "
        "runpy.run_module('kungfu_rl', run_name='__main__', alter_sys=True)"
    )
    if argv == ["games", "-x"]:  # a mistyped flag: one line, exit code 2, still no torch
        assert result.returncode == 2 and "kungfu: error:" in result.stderr, result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert "kungfu_rl 0.1.0" in result.stdout or "usage: kungfu" in result.stdout
