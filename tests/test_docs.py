"""The docs: every public name documented, the API reference current, the pages' code runnable.

The numbered pages in docs/ hold ```python blocks that run as written (each page's blocks in
order, in one namespace, in a temporary folder). A block preceded by an HTML comment
``<!-- no-run: reason -->`` is shown but not run (it needs the full MNIST or minutes of
training; the example scripts it quotes run in tests/examples/test_docs_examples.py).
"""

import importlib.util
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("[0-9][0-9]_*.md"))
FENCE = re.compile(r"(<!--\s*no-run:[^>]*-->\s*\n)?```python\n(.*?)\n```", re.S)
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def _gen_api():
    spec = importlib.util.spec_from_file_location("gen_api", DOCS / "gen_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen_api():
    return _gen_api()


@pytest.fixture(scope="module")
def entries(gen_api):
    """[(qualified name, object, aliases)] for every public name."""
    return [entry for _, _, items, _ in gen_api.collect() for entry in items]


def test_the_numbered_pages_are_all_there():
    numbers = [int(p.name[:2]) for p in PAGES]
    assert numbers[: 14] == list(range(1, 15)), [p.name for p in PAGES]
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in PAGES:
        assert f"({page.name})" in index, f"docs/index.md does not link {page.name}"


def test_core_namespaces_are_in_the_reference(gen_api):
    documented = {name for name, _, _, _ in gen_api.collect()}
    for name in ("npgrad", "npgrad.functional", "npgrad.layers", "npgrad.optimizers",
                 "npgrad.utils", "npgrad.datasets"):
        assert name in documented


def test_every_public_name_has_a_docstring(entries):
    missing = [name for name, obj, _ in entries
               if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj)]
    assert not missing, f"public names without a docstring: {missing}"


def test_every_public_name_and_alias_appears_in_the_reference(entries):
    text = (DOCS / "14_api_reference.md").read_text(encoding="utf-8")
    absent = [name for qualified, _, aliases in entries for name in [qualified, *aliases]
              if f"`{name}`" not in text]
    assert not absent, f"missing from docs/14_api_reference.md: {absent}"


def test_the_generated_reference_is_up_to_date(gen_api):
    current = (DOCS / "14_api_reference.md").read_text(encoding="utf-8")
    assert current == gen_api.generate(), (
        "docs/14_api_reference.md is out of date: run `python docs/gen_api.py`"
    )


def test_docstring_rendering_keeps_sections_and_examples(gen_api):
    doc = inspect.cleandoc("""Summary line.

    Args:
        x: the input.
            More about x.

    Example:
        >>> f(1)
        2
    """)
    out = "\n".join(gen_api.render_docstring(doc))
    assert out.startswith("Summary line.")
    assert "**Args**\n\n```text\nx: the input.\n    More about x.\n```" in out
    assert "**Example**\n\n```python\n>>> f(1)\n2\n```" in out


def _blocks(page):
    """(code, runnable) for every ```python block of a page."""
    text = page.read_text(encoding="utf-8")
    return [(m.group(2), m.group(1) is None) for m in FENCE.finditer(text)]


GUIDES = [p for p in PAGES if p.name != "14_api_reference.md"]  # the reference holds signatures
RUNNABLE = [p for p in GUIDES if any(run for _, run in _blocks(p))]


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: p.stem)
def test_the_code_in_each_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import npgrad

    npgrad.utils.set_random_seed(0)
    namespace = {"__name__": f"docs_{page.stem}"}
    for number, (code, runnable) in enumerate(_blocks(page), start=1):
        if not runnable:
            continue
        try:
            exec(compile(code, f"{page.name} block {number}", "exec"), namespace)
        except Exception as exc:  # report which block of which page failed
            raise AssertionError(f"{page.name}, python block {number} failed: {exc!r}") from exc


@pytest.mark.parametrize("page", [*PAGES, DOCS / "index.md"], ids=lambda p: p.stem)
def test_relative_links_resolve(page):
    text = page.read_text(encoding="utf-8")
    broken = []
    for target, _ in LINK.findall(text):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not (page.parent / target).resolve().exists():
            broken.append(target)
    assert not broken, f"{page.name} links to missing files: {broken}"


def test_docs_examples_exist_and_have_quick_mode():
    for name in ("backprop_by_hand", "optimizers_2d", "regularization", "transfer_learning",
                 "saliency", "adversarial"):
        source = (ROOT / "examples" / f"{name}.py").read_text(encoding="utf-8")
        assert "--quick" in source, f"examples/{name}.py has no --quick mode"
        assert f"examples/{name}.py" in "".join(p.read_text(encoding="utf-8") for p in PAGES), (
            f"no page quotes examples/{name}.py"
        )
