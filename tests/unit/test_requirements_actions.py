"""The action image (docker/Dockerfile.actions) installs requirements-actions.txt, not all of
requirements.txt: every third-party module its processes can import must be listed there, at the
version requirements.txt pins."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the image runs: the action server with actions/, the migrations (the compose migrate job),
# the seed and the analytics consumer (docker/docker-compose.yml).
ENTRY_MODULES = ("kefu.action_server", "kefu.db.migrate", "kefu.db.seed", "kefu.analytics.consumer")
ENTRY_FILES = (*sorted((ROOT / "actions").glob("*.py")), *sorted((ROOT / "migrations").rglob("*.py")))
LOCAL_PACKAGES = {"kefu", "actions"}
# Distribution names that differ from the module's.
DISTRIBUTIONS = {"jwt": "PyJWT", "yaml": "PyYAML", "sklearn": "scikit-learn", "rasa_sdk": "rasa-sdk"}
# Imported only when configured so, and then with a message naming it (kefu/knowledge/embeddings.py).
OPTIONAL = {"sentence_transformers"}
ACTIONS_REQUIREMENTS = ROOT / "requirements-actions.txt"


def requirement_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package(module: str) -> str:
    """The package relative imports in ``module`` start from."""
    path = module_file(module)
    return module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]


def _runtime_nodes(tree: ast.AST):
    """The tree's nodes, without the bodies of ``if TYPE_CHECKING:`` (they never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
            else:
                stack.append(child)


def imported_modules(path: Path, package: str) -> set[str]:
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # may name a submodule
    return found


def third_party_imports() -> dict[str, set[str]]:
    """Every third-party top-level module the image's code can import, with where from."""
    stdlib = set(sys.stdlib_module_names)
    seen: set[Path] = set()
    todo = [(p, ".".join(p.relative_to(ROOT).with_suffix("").parts[:-1])) for p in ENTRY_FILES]
    todo += [(module_file(m), _package(m)) for m in ENTRY_MODULES]
    found: dict[str, set[str]] = {}
    while todo:
        path, package = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in imported_modules(path, package):
            top = module.split(".")[0]
            if top in LOCAL_PACKAGES:
                local = module_file(module)
                if local is not None:
                    todo.append((local, _package(module)))
            elif top and top not in stdlib and top != "__future__":
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_of_the_action_image_is_in_its_requirements():
    listed = requirement_pins(ACTIONS_REQUIREMENTS)
    imports = third_party_imports()
    assert {"rasa_sdk", "sqlalchemy", "alembic"} <= set(imports)  # the walk reached the code it should
    missing = {
        module: sorted(where)
        for module, where in imports.items()
        if module not in OPTIONAL and canonical(DISTRIBUTIONS.get(module, module)) not in listed
    }
    assert not missing, f"add these to requirements-actions.txt: {missing}"


def test_the_action_image_pins_what_requirements_txt_pins_and_no_rasa():
    everything = requirement_pins(ROOT / "requirements.txt")
    for name, version in requirement_pins(ACTIONS_REQUIREMENTS).items():
        assert everything.get(name) == version, f"{name}=={version}, requirements.txt: {everything.get(name)}"
    assert not {"rasa", "tensorflow"} & set(requirement_pins(ACTIONS_REQUIREMENTS))


def test_the_action_image_installs_only_its_requirements_and_copies_only_what_it_runs():
    dockerfile = (ROOT / "docker" / "Dockerfile.actions").read_text(encoding="utf-8")
    assert re.search(r"^RUN pip install -r requirements-actions\.txt -c requirements\.txt$", dockerfile, re.M)
    copied = {
        source.rstrip("/")
        for line in re.findall(r"^COPY (.*)$", dockerfile, re.M)
        for source in line.split()[:-1]
        if not source.startswith("--")
    }
    assert "." not in copied and "models" not in copied
    for folder in ("actions", "kefu", "knowledge", "migrations"):
        assert folder in copied, folder
