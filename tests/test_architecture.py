"""Rules of the layout that code review alone would let slip (see DESIGN.md, "Layout")."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
ANALYTICS = REPO_ROOT / "analytics"
PAGES = REPO_ROOT / "views"  # not pages/: see app.py
APP = REPO_ROOT / "app.py"
STREAMLIT_CONFIG = REPO_ROOT / ".streamlit" / "config.toml"


def _is_streamlit(module: str) -> bool:
    return module == "streamlit" or module.startswith("streamlit.")


def streamlit_imports(source: str, filename: str = "<source>") -> list[str]:
    """Each place in `source` that imports streamlit, as "file:line: statement"."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            hit = any(_is_streamlit(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            hit = node.level == 0 and _is_streamlit(node.module or "")
        elif isinstance(node, ast.Call):
            # importlib.import_module("streamlit") / __import__("streamlit")
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0] if node.args else None
            hit = (
                name in {"import_module", "__import__"}
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and _is_streamlit(first.value)
            )
        else:
            continue
        if hit:
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "import streamlit as st",
        "import os, streamlit",
        "import streamlit.components.v1",
        "from streamlit import cache_data",
        "from streamlit.testing.v1 import AppTest",
        "def f():\n    import streamlit\n",
        "if TYPE_CHECKING:\n    from streamlit.delta_generator import DeltaGenerator\n",
        "import importlib\nst = importlib.import_module('streamlit')",
        "st = __import__('streamlit')",
    ],
)
def test_streamlit_import_is_caught(source):
    assert streamlit_imports(source)


@pytest.mark.parametrize(
    "source",
    [
        "import duckdb",
        "import streamlit_extras_lookalike",
        "from . import streamlit",
        "from .streamlit import helper",
        "name = 'streamlit'",
        "# import streamlit",
    ],
)
def test_other_imports_pass(source):
    assert streamlit_imports(source) == []


def test_analytics_never_imports_streamlit():
    sources = sorted(ANALYTICS.rglob("*.py"))
    assert sources, f"no Python files under {ANALYTICS}"
    offenders = [
        hit
        for path in sources
        for hit in streamlit_imports(path.read_text(), str(path.relative_to(REPO_ROOT)))
    ]
    assert offenders == [], "analytics/ must not import streamlit:\n" + "\n".join(offenders)


def _calls(tree: ast.AST, attribute: str) -> list[ast.Call]:
    """Calls written `st.<attribute>(...)` or `<attribute>(...)`."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == attribute)
            or (isinstance(node.func, ast.Name) and node.func.id == attribute)
        )
    ]


def registered_pages(app_source: str) -> set[str]:
    """The script paths given to `st.Page(...)` in the app's entry point, as POSIX paths."""
    paths = set()
    for call in _calls(ast.parse(app_source), "Page"):
        target = call.args[0] if call.args else None
        for keyword in call.keywords:
            if keyword.arg == "page":
                target = keyword.value
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            paths.add(Path(target.value).as_posix().removeprefix("./"))
    return paths


def test_registered_pages_reads_page_paths():
    source = (
        "import streamlit as st\n"
        "home = st.Page('pages/overview.py', title='Overview')\n"
        "st.navigation({'Explore': [home, st.Page(page='./pages/markets.py')]}).run()\n"
    )
    assert registered_pages(source) == {"pages/overview.py", "pages/markets.py"}


def test_every_page_is_registered_in_navigation():
    app_source = APP.read_text()
    assert _calls(ast.parse(app_source), "navigation"), "app.py must call st.navigation"
    registered = registered_pages(app_source)
    page_files = {
        path.relative_to(REPO_ROOT).as_posix()
        for path in PAGES.glob("*.py")
        if not path.name.startswith("_")
    }
    assert page_files, f"no page scripts under {PAGES}"
    assert sorted(page_files - registered) == [], "views/ scripts missing from st.navigation"
    missing = sorted(path for path in registered if not (REPO_ROOT / path).is_file())
    assert missing == [], "st.Page paths with no script"


def test_streamlit_config_keeps_usage_statistics_off_and_static_serving_on():
    config = tomllib.loads(STREAMLIT_CONFIG.read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableStaticServing"] is True


def test_no_pages_directory():
    # Streamlit 1.67 treats a pages/ folder beside the entry script as a legacy multipage
    # app: opening /markets ran pages/markets.py alone, without app.py's filters.
    assert not (REPO_ROOT / "pages").exists()


def test_exports_sit_between_analytics_and_ui():
    # analytics/ computes, exports/ lays out, ui/ shows: nothing imports a layer above it.
    # analytics/__main__.py is an entry point like app.py, so it may use all three.
    def imported(path: Path) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        return names

    rules = {
        ANALYTICS: {"exports", "ui", "streamlit"},
        REPO_ROOT / "exports": {"ui", "streamlit"},
    }
    offenders = [
        f"{path.relative_to(REPO_ROOT)} imports {name}"
        for folder, forbidden in rules.items()
        for path in sorted(folder.rglob("*.py"))
        if path != ANALYTICS / "__main__.py"
        for name in sorted(imported(path) & forbidden)
    ]
    assert (REPO_ROOT / "exports" / "__init__.py").is_file()
    assert offenders == []
