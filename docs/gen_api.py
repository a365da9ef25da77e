"""Generate docs/14_api_reference.md from the docstrings of every public name.

    python docs/gen_api.py            # rewrite docs/14_api_reference.md
    python docs/gen_api.py --check    # exit 1 when the file is out of date

Public names are those in each public module's ``__all__`` (or, without one, the names not
starting with ``_`` that npgrad itself defines). A class also lists its public methods and
properties defined in npgrad (inherited ones appear under the base class). An object reachable
under several names (``npgrad.Tensor`` and ``npgrad.autograd.Tensor``, ``Conv2D`` and
``Convolution2D``) is documented once, with its other names listed as aliases.
``tests/test_docs.py`` checks that the file is up to date and that every name has a docstring.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
import textwrap
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "14_api_reference.md"

#: the public namespaces, in the order the reference presents them
MODULES = [
    "npgrad",
    "npgrad.autograd",
    "npgrad.functional",
    "npgrad.layers",
    "npgrad.layers.preprocessing",
    "npgrad.models",
    "npgrad.losses",
    "npgrad.metrics",
    "npgrad.optimizers",
    "npgrad.optimizers.schedules",
    "npgrad.callbacks",
    "npgrad.trainers",
    "npgrad.distribution",
    "npgrad.errors",
    "npgrad.activations",
    "npgrad.initializers",
    "npgrad.regularizers",
    "npgrad.constraints",
    "npgrad.saving",
    "npgrad.datasets",
    "npgrad.datasets.mnist",
    "npgrad.datasets.fashion_mnist",
    "npgrad.utils",
    "npgrad.random",
    "npgrad.ops",
    "npgrad.ops.nn",
    "npgrad.ops.linalg",
    "npgrad.ops.image",
    "npgrad.config",
    "npgrad.preprocessing",
    "npgrad.preprocessing.sequence",
    "npgrad.preprocessing.image",
    "npgrad.datasets.imdb",
    "npgrad.datasets.reuters",
    "npgrad.datasets.cifar10",
    "npgrad.datasets.cifar100",
    "npgrad.datasets.boston_housing",
]

SECTIONS = ("Args", "Arguments", "Returns", "Yields", "Raises", "Attributes", "Shapes", "Shape",
            "Weights", "Example", "Examples", "Note", "Notes", "Input shape", "Output shape",
            "Call arguments")


def available_modules():
    """The modules of MODULES that import (a package still being written is skipped)."""
    out = []
    for name in MODULES:
        try:
            out.append(importlib.import_module(name))
        except ImportError:
            continue
    return out


def public_names(module, known=()):
    """The public names of ``module``: its ``__all__``, else the ones npgrad defines there.

    Without ``__all__``, a class or function counts when its ``__module__`` is this module (or
    one of its submodules), or when it is an object already documented under another name
    (``npgrad.activations.relu`` is ``npgrad.functional.relu``): helpers imported from
    elsewhere do not leak in. Submodules are not names (they get their own section).

    Args:
        module: an imported module.
        known: ids of objects documented so far.
    """
    names = getattr(module, "__all__", None)
    if names is None:
        names = []
        for name, value in vars(module).items():
            if name.startswith("_") or inspect.ismodule(value):
                continue
            if not (inspect.isclass(value) or callable(value)):
                continue  # constants and type aliases are not API entries
            owner = getattr(value, "__module__", None) or ""
            if owner == module.__name__ or owner.startswith(module.__name__ + ".") or id(value) in known:
                names.append(name)
    names = list(dict.fromkeys(names))  # keep the first of any repeated name
    return [n for n in names if not inspect.ismodule(getattr(module, n, None))]


def collect():
    """[(module name, module, entries, aliases)], every object described once.

    ``entries`` are (qualified name, object, [other names]) for the objects described in this
    module; ``aliases`` are (qualified name, canonical name) for names of objects described
    under another module (the first listed in MODULES, the top level coming last).
    """
    seen = {}
    sections = []
    modules = available_modules()
    # the top-level namespace only re-exports: visit it last so that its names become aliases
    # of their home (npgrad.Tensor -> npgrad.autograd.Tensor), but show it first
    for module in sorted(modules, key=lambda m: m.__name__ == "npgrad"):
        entries, aliases = [], []
        for name in public_names(module, known=seen):
            if not hasattr(module, name):
                continue
            obj = getattr(module, name)
            qualified = f"{module.__name__}.{name}"
            key = id(obj)
            if key in seen and (inspect.isclass(obj) or inspect.isfunction(obj)):
                seen[key][2].append(qualified)
                aliases.append((qualified, seen[key][0]))
                continue
            entry = (qualified, obj, [])
            if inspect.isclass(obj) or inspect.isfunction(obj):
                seen[key] = entry
            entries.append(entry)
        sections.append((module.__name__, module, entries, aliases))
    order = {m.__name__: i for i, m in enumerate(modules)}
    return sorted(sections, key=lambda section: order[section[0]])


def _anchor(heading):
    """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def signature(obj, name):
    """``name(args)``, or just ``name`` when Python cannot tell the signature."""
    try:
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return name
    sig = re.sub(r" at 0x[0-9a-f]+", "", sig)  # default objects' addresses change every run
    return f"{name}{sig}"


def render_docstring(doc):
    """Google-style docstring -> Markdown: prose as is, sections as labelled blocks."""
    if not doc:
        return ["*(no docstring)*", ""]
    lines = doc.splitlines()
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        header = line.strip().rstrip(":")
        if line.strip().endswith(":") and header in SECTIONS and not line.startswith(" "):
            body = []
            i += 1
            while i < len(lines) and (lines[i].startswith(" ") or not lines[i].strip()):
                body.append(lines[i])
                i += 1
            while body and not body[-1].strip():
                body.pop()
            body = textwrap.dedent("\n".join(body)).splitlines() if body else []
            lang = "python" if header.startswith("Example") else "text"
            out += [f"**{header}**", "", f"```{lang}", *body, "```", ""]
            continue
        if line.strip().startswith(">>>") or line.startswith("    "):
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or lines[i].strip().startswith(">>>")
                                      or lines[i].strip().startswith("...")):
                block.append(lines[i])
                i += 1
            out += ["```text", *textwrap.dedent("\n".join(block)).splitlines(), "```", ""]
            continue
        out.append(line)
        i += 1
    while out and not out[-1].strip():
        out.pop()
    return out + [""]


def _members(cls):
    """Public methods and properties that ``cls`` itself defines (not inherited)."""
    members = []
    for name, value in vars(cls).items():
        if name.startswith("_") and name != "__call__":
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            members.append((name, value))
    return members


def render_entry(qualified, obj, aliases):
    """The Markdown of one public name."""
    short = qualified.rsplit(".", 1)[-1]
    kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "value"
    out = [f"### `{qualified}`", ""]
    if kind == "value":
        out += [f"`{short} = {obj!r}`", ""]
        return out
    out += ["```python", f"{'class ' if kind == 'class' else ''}{signature(obj, short)}", "```", ""]
    if aliases:
        out += ["Also available as " + ", ".join(f"`{a}`" for a in aliases) + ".", ""]
    out += render_docstring(inspect.getdoc(obj))
    if kind == "class":
        for name, member in _members(obj):
            if isinstance(member, property):
                head = f"`{short}.{name}` (property)"
            else:
                head = f"`{signature(member, f'{short}.{name}')}`"
            # the member's own docstring only: an undocumented override (build, call...) is
            # described under the base class, and Python's generic texts say nothing
            doc = inspect.cleandoc(member.__doc__) if member.__doc__ else None
            if not doc:
                continue
            out += [f"- {head}", ""]
            out += ["  " + line if line else "" for line in render_docstring(doc)]
    return out


def generate():
    """The full text of docs/14_api_reference.md."""
    sections = collect()
    out = [
        "# 14. API reference",
        "",
        "Generated by `python docs/gen_api.py` from the docstrings; do not edit by hand.",
        "Every public name of npgrad, grouped by namespace. An object reachable under several",
        "names is described once, in its home namespace, and its other names point there (the",
        "top-level `npgrad` namespace only re-exports).",
        "",
        "## Contents",
        "",
    ]
    # GitHub numbers repeated anchors (npgrad.autograd.Tensor / .tensor): -1, -2...
    anchors, used = {}, {}
    for heading in ["Contents"] + [name for module_name, _, entries, _ in sections
                                   for name in [module_name] + [e[0] for e in entries]]:
        base = _anchor(heading)
        anchors[heading] = base if base not in used else f"{base}-{used[base]}"
        used[base] = used.get(base, 0) + 1
    for module_name, module, entries, aliases in sections:
        count = len(entries) + len(aliases)
        out.append(f"- [`{module_name}`](#{anchors[module_name]}) ({count} names)")
    out.append("")
    for module_name, module, entries, aliases in sections:
        out += [f"## {module_name}", ""]
        summary = (inspect.getdoc(module) or "").split("\n\n")[0].strip()
        if summary:
            out += [summary, ""]
        if aliases:
            out += ["Also here, described elsewhere:", ""]
            out += [f"- `{alias}`: see [`{canonical}`](#{anchors[canonical]})"
                    for alias, canonical in aliases]
            out.append("")
        for qualified, obj, others in entries:
            out += render_entry(qualified, obj, others)
    return "\n".join(out).rstrip() + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is out of date")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date: run python docs/gen_api.py", file=sys.stderr)
            return 1
        print(f"{OUTPUT} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
