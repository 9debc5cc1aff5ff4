"""The layout rules of docs/architecture.md, checked on the source (no Django, no database).

Imports are read with ``ast`` from every module of the ``search`` package (migrations aside),
lazy imports inside functions included, so a rule cannot be dodged by importing late. The
checks: no module uses another module's private (``_x``) names; no import cycle among ``search``
modules; no module over 400 lines; and every import follows the table of
docs/architecture.md (:data:`ALLOWED`). A new module fails the last check until it is entered
in the table, which keeps the document true.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("search", "knowledge", "network", "attachments")
MAX_LINES = 400

# Retrieval: what a search query passes through, lowest layer first.
RETRIEVAL = {
    "search.query": {"search.compounds"},
    "search.params": set(),
    "search.planner": set(),
    "search.access_sql": {"search.query"},
    "search.statistics": {"search.access_sql", "search.params", "search.query", "search.models"},
    "search.fulltext": {"search.access_sql", "search.params", "search.planner", "search.query",
                        "search.statistics"},
    "search.vector": {"search.access_sql", "search.params", "search.planner", "search.query",
                      "search.embedding", "search.models"},
    "search.fusion": {"search.params"},
    "search.page_facts": {"search.query"},
    "search.results": {"search.page_facts", "search.params", "search.query"},
    "search.typos": {"search.access_sql", "search.models", "search.statistics"},
    "search.feedback": {"search.query", "search.vector"},
    "search.topic_feedback": {"search.page_facts", "search.params"},
    "search.term_feedback": {"search.fulltext", "search.fusion", "search.params",
                             "search.query", "search.statistics"},
    "search.retrieval": {"search.feedback", "search.fulltext", "search.fusion",
                         "search.page_facts", "search.params", "search.planner",
                         "search.query", "search.results", "search.statistics",
                         "search.term_feedback", "search.topic_feedback", "search.typos",
                         "search.vector", "search.embedding", "search.models"},
}
# Matching and related material build on retrieval; retrieval never imports them.
MATCHING = {
    "search.match_items": {"search.page_facts", "search.params", "search.results"},
    "search.matching": {"search.match_items", "search.page_facts", "search.params",
                        "search.query", "search.results",
                        "search.retrieval", "search.vector", "search.embedding",
                        "search.models"},
    "search.related": {"search.access_sql", "search.match_items", "search.params",
                       "search.planner", "search.query", "search.results", "search.vector",
                       "search.embedding", "search.models"},
}
# The write side: pages -> passages -> index; it knows nothing of retrieval.
INDEXING = {
    "search.indexing": set(),
    "search.indexing.chunking": set(),
    "search.indexing.page_chunks": {"search.indexing.chunking", "search.embedding"},
    "search.indexing.state": {"search.models"},
    "search.indexing.events": {"search.models"},
    "search.indexing.writer": {"search.indexing.chunking", "search.indexing.page_chunks",
                               "search.indexing.events", "search.indexing.state",
                               "search.compounds", "search.embedding", "search.models"},
    "search.indexing.tasks": {"search.indexing.state", "search.indexing.writer",
                              "search.models"},
    "search.indexing.handlers": {"search.indexing.events", "search.indexing.state",
                                 "search.indexing.tasks", "search.models"},
}
# The offline model build: no Django, nothing of the rest of search.
MODEL_BUILD = {
    "search.model_build": set(),
    "search.model_build.spec": set(),
    "search.model_build.e5_file": {"search.model_build.spec"},
    "search.model_build.tokenizer": {"search.model_build.e5_file", "search.model_build.spec"},
    "search.model_build.st_files": {"search.model_build.e5_file", "search.model_build.spec"},
    "search.offline_model": {"search.model_build.e5_file", "search.model_build.spec",
                             "search.model_build.st_files", "search.model_build.tokenizer"},
}
# Foundations every layer may use.
FOUNDATION = {
    "search": set(),
    "search.models": set(),
    "search.embedding": {"search.query_encoders"},
    "search.query_encoders": {"search.offline_model", "search.onnx_export"},
    "search.onnx_export": set(),
    "search.compounds": set(),
    "search.metrics": set(),
    "search.apps": {"search.indexing.handlers"},
}
ALLOWED = {**FOUNDATION, **RETRIEVAL, **MATCHING, **INDEXING, **MODEL_BUILD}
# Entry points (views, API, commands, evaluation and benchmarks) may import any layer; no layer
# may import them.
ENTRY_POINTS = ("search.api", "search.views", "search.matching_views", "search.urls",
                "search.evaluation", "search.benchmark", "search.bench_corpus",
                "search.bench_bulk", "search.query_benchmark", "search.templatetags",
                "search.management")
NO_DJANGO = set(MODEL_BUILD)
# Underscored, but public API of Django models.
DJANGO_PUBLIC = {"_meta"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def search_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / "search").rglob("*.py"))
            if "migrations" not in path.parts}


MODULES = search_modules()


def resolve(importer: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module of a ``from … import`` (relative imports included)."""
    if not node.level:
        return node.module or ""
    package = importer.split(".") if path.name == "__init__.py" else importer.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import in the module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = resolve(name, path, node)
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if submodule in MODULES:  # ``from search.indexing import writer``
                    found.append((submodule, None, node.lineno))
                else:
                    found.append((module, alias.name, node.lineno))
    return found


def search_imports(name: str, path: Path) -> set[str]:
    """The ``search`` modules a module imports (the package itself only if named)."""
    return {module for module, _name, _line in imports(name, path)
            if (module == "search" or module.startswith("search.")) and module != name}


def is_project(module: str) -> bool:
    return module.split(".")[0] in PROJECT_PACKAGES


def private_uses(name: str, path: Path) -> list[str]:
    """``from other import _x`` and ``other_module._x`` where ``other`` is a project module."""
    problems = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module_aliases: dict[str, str] = {}
    for module, imported, line in imports(name, path):
        if not is_project(module) or module == name:
            continue
        if imported is None:
            continue
        if imported.startswith("_") and not imported.startswith("__"):
            problems.append(f"{name}:{line} imports {module}.{imported}")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = resolve(name, path, node)
            for alias in node.names:
                # ``from search import ranking``: a module (classes are capitalised; even a
                # module that no longer exists counts, for the self-test below).
                if is_project(module) and (f"{module}.{alias.name}" in MODULES
                                           or not alias.name[0].isupper()):
                    module_aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if is_project(alias.name):
                    module_aliases[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases and node.attr.startswith("_")
                and not node.attr.startswith("__") and node.attr not in DJANGO_PUBLIC):
            problems.append(f"{name}:{node.lineno} uses {module_aliases[node.value.id]}."
                            f"{node.attr}")
    return problems


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph as a path (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def is_entry_point(name: str) -> bool:
    return any(name == entry or name.startswith(entry + ".") for entry in ENTRY_POINTS)


def test_no_module_uses_another_modules_private_names():
    problems = [p for name, path in MODULES.items() for p in private_uses(name, path)]
    assert problems == []


def test_search_modules_have_no_import_cycle():
    graph = {name: search_imports(name, path) for name, path in MODULES.items()}
    assert find_cycle(graph) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_search_module_is_over_400_lines(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it (docs/architecture.md)"


def test_every_import_follows_the_table_of_docs_architecture():
    problems = []
    for name, path in MODULES.items():
        if is_entry_point(name):
            continue
        if name not in ALLOWED:
            problems.append(f"{name} is not in the import table (docs/architecture.md)")
            continue
        for module in sorted(search_imports(name, path) - ALLOWED[name]):
            problems.append(f"{name} may not import {module}")
        if name in NO_DJANGO:
            problems += [f"{name} imports {module} (the model build needs no Django)"
                         for module, _n, _l in imports(name, path)
                         if module.split(".")[0] in ("django", *PROJECT_PACKAGES)
                         and not module.startswith("search.model_build")]
    assert problems == []


def test_the_checks_catch_the_old_layout(tmp_path):
    """The rules fail on what the split removed: a cycle, private names, a forbidden edge."""
    old_cycle = {"search.indexing": {"search.signals"}, "search.signals": {"search.tasks"},
                 "search.tasks": {"search.indexing"}}
    assert find_cycle(old_cycle) == ["search.indexing", "search.signals", "search.tasks",
                                     "search.indexing"]
    old_matching = tmp_path / "matching.py"
    old_matching.write_text("from search import ranking\n"
                            "from search.ranking import _headlines\n"
                            "where, params = ranking._filter_sql(None, None)\n")
    assert private_uses("search.matching", old_matching) == [
        "search.matching:2 imports search.ranking._headlines",
        "search.matching:3 uses search.ranking._filter_sql",
    ]
    assert "search.matching" not in ALLOWED["search.retrieval"]
    assert "search.retrieval" not in ALLOWED["search.indexing.writer"]


def test_knowledge_models_do_not_import_the_search_engine():
    """Pages get related material through search.templatetags.related_material, so the
    content domain never imports the engine that imports it (the old models <-> matching
    cycle)."""
    offenders = []
    for path in sorted((ROOT / "knowledge" / "models").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names
                          if n == "search" or n.startswith("search.")]
    assert offenders == []


def test_every_search_import_names_an_existing_module():
    """A lazy import of a module that moved fails only when its code path runs; catch it here."""
    missing = [f"{name} imports {module}" for name, path in sorted(MODULES.items())
               for module in sorted(search_imports(name, path)) if module not in MODULES]
    assert missing == []
