"""The package keeps its shape: names resolve, imports run downward, docs match the tree."""

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import course_utils as cu
from course_utils.core import runtime

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils"
LESSONS = {path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
FOUNDATIONS = ("core", "audio", "augment", "data", "attention", "exercises")
APPLICATIONS = ("kws", "sed", "asr", "tts", "codec", "restoration", "longform", "audiotext")
TOP_LEVEL = ("training", "checkpoints", "distributed", "distributed_data", "metrics", "plotting")
MODULES = sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_every_public_name_resolves():
    missing = [name for name in cu.__all__ if not hasattr(cu, name)]
    assert not missing, f"cu.__all__ names that do not resolve: {missing}"


@pytest.mark.parametrize("folder", FOUNDATIONS + APPLICATIONS)
def test_each_folder_reexports_its_public_names(folder):
    package = getattr(cu, folder)
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert not missing, f"cu.{folder}.__all__ names that do not resolve: {missing}"


def _imports(path: Path) -> list[str]:
    """Absolute dotted names of the course_utils modules `path` imports."""
    parts = ["course_utils", *path.relative_to(PACKAGE).with_suffix("").parts]
    package = parts[:-1] if path.name != "__init__.py" else parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module and node.module.startswith("course_utils"):
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("course_utils")]
    return found


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_imports_run_downward(path):
    """Foundations never import an application folder; nothing imports another folder's
    private names."""
    rel = path.relative_to(PACKAGE).parts
    here = rel[0] if len(rel) > 1 else None
    for name in _imports(path):
        target = name.split(".")[1:2]
        if here in FOUNDATIONS + TOP_LEVEL or (here is None and path.stem in TOP_LEVEL):
            assert not target or target[0] not in APPLICATIONS, f"{_relative(path)} imports {name}"
        if target and target[0] != here:
            private = [part for part in name.split(".")[1:] if part.startswith("_")]
            assert not private, f"{_relative(path)} imports a private module of another folder"


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_no_module_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400, f"{_relative(path)}: split it"


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_notebook_lines_name_existing_lessons(path):
    for line in re.findall(r"Notebook:([^\n]*)", path.read_text()):
        names = re.findall(r"\b(\d\d_[a-z_]+)", line)
        assert names, f"{_relative(path)}: a Notebook: line without a lesson: {line!r}"
        for name in names:
            assert name in LESSONS, f"{_relative(path)} names {name}, which is not a lesson"


def test_readme_package_table_matches_the_tree():
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)/` \| ([^|]+) \|", readme, re.M)
    listed = {
        (folder, module) for folder, cell in rows for module in re.findall(r"`([a-z_]+)`", cell)
    }
    actual = set()
    for path in MODULES:
        parts = path.relative_to(PACKAGE).parts
        if len(parts) == 1 and not path.stem.startswith("_"):
            actual.add(("course_utils", path.stem))
        elif len(parts) == 2 and not path.stem.startswith("_"):
            actual.add((parts[0], path.stem))
        elif len(parts) == 3 and parts[2] == "__init__.py":
            actual.add((parts[0], parts[1]))  # a sub-folder such as exercises/bank
    actual = {(folder, module) for folder, module in actual if module != "__init__"}
    assert listed == actual, f"README only: {listed - actual}; package only: {actual - listed}"


def test_data_folder_default_is_the_repository_data_folder(monkeypatch):
    monkeypatch.delenv(runtime.DATA_DIR_ENV, raising=False)
    assert runtime.data_dir() == ROOT / "data"


def test_repo_root_is_found_from_any_depth(tmp_path):
    from course_utils.core.environment import find_repo_root

    deep = PACKAGE / "asr" / "checkpoints"
    assert find_repo_root(deep) == ROOT
    assert find_repo_root(tmp_path) is None


def test_checkpoints_are_package_data_of_their_folder():
    import tomllib

    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    shipped = sorted(PACKAGE.rglob("*.pt"))
    assert shipped, "no shipped checkpoints found"
    for path in shipped:
        folder = path.parent.parent
        package = ".".join(folder.relative_to(ROOT).parts)
        patterns = package_data.get(package, [])
        assert any(path.relative_to(folder).match(p) for p in patterns), (path, package_data)


@pytest.mark.slow
def test_a_built_wheel_holds_every_checkpoint(tmp_path):
    """An editable install finds the checkpoints anyway; a wheel must carry them."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
         str(tmp_path), str(ROOT)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("course_utils-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in PACKAGE.rglob("*.pt"):
        assert path.relative_to(ROOT).as_posix() in names, f"{path.name} missing from the wheel"
