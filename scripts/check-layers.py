#!/usr/bin/env python3
"""Checks the direction of dependencies between Jaga's top-level modules.

Rules (CI fails on any breach):
  1. no import circle among the modules of src/;
  2. the edge (app, http, cli, main, lib) may import anything; nothing else
     imports the edge (no upward import);
  3. domain modules and the store use no web framework (axum, tower,
     tower_http, axum_server, hyper): HTTP status codes are decided in http;
  4. the foundations (ids, store) import no other module of the crate.

A module's imports are the `crate::<module>` paths in its files, tests
(`*_tests.rs`, `tests.rs`, a trailing `#[cfg(test)] mod tests { … }`) and
comments excluded. Prints the graph, lowest layer first.

usage: scripts/check-layers.py [SRC_DIR]
"""
import os
import re
import sys

EDGE = {"app", "http", "cli", "main", "lib"}
FOUNDATIONS = {"ids", "store"}
FRAMEWORK = re.compile(r"\b(axum|tower|tower_http|axum_server|hyper)::")
TEST_MODULE = re.compile(r"^#\[cfg\(test\)\]\s*\nmod \w+ \{", re.M)


def module_of(src: str, path: str) -> str:
    first = os.path.relpath(path, src).split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def code_of(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    test = TEST_MODULE.search(text)
    if test:
        text = text[: test.start()]
    # Drop line comments (doc comments included); string contents that
    # happen to hold `//` only shorten what is scanned.
    return re.sub(r"//[^\n]*", "", text)


def imports(src: str):
    modules = {module_of(src, os.path.join(src, n)) for n in os.listdir(src) if n.endswith(".rs") or os.path.isdir(os.path.join(src, n))}
    edges = {m: set() for m in modules}
    framework = {}
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".rs") or name.endswith("_tests.rs") or name == "tests.rs":
                continue
            path = os.path.join(root, name)
            me = module_of(src, path)
            code = code_of(path)
            used = set(re.findall(r"\bcrate::(\w+)", code))
            for group in re.findall(r"\bcrate::\{([^;]*?)\}", code, re.S):
                used |= set(re.findall(r"(?:^|[,{\s])(\w+)(?=\s*(?:::|,|\}|$))", group))
            edges[me] |= {m for m in used if m in modules and m != me}
            if me not in EDGE and FRAMEWORK.search(code):
                framework.setdefault(me, []).append(os.path.relpath(path, src))
    return edges, framework


def circles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def layers(edges):
    """Each module's height: 0 for one importing nothing, else one more than
    the highest it imports (only meaningful without circles)."""
    height = {}

    def of(m, seen=()):
        if m in height:
            return height[m]
        if m in seen:
            return 0
        h = 1 + max((of(d, seen + (m,)) for d in edges[m]), default=-1)
        height[m] = h
        return h

    for m in edges:
        of(m)
    return height


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    edges, framework = imports(src)
    problems = []
    for c in circles(edges):
        problems.append("import circle: " + " ".join(c))
    for m in sorted(edges):
        if m in EDGE:
            continue
        for d in sorted(edges[m] & EDGE):
            problems.append(f"upward import: {m} -> {d}")
        if m in FOUNDATIONS:
            for d in sorted(edges[m] - FOUNDATIONS):
                problems.append(f"foundation {m} imports {d}")
    for m, files in sorted(framework.items()):
        problems.append(f"web framework in {m}: {', '.join(sorted(files))}")

    height = layers(edges)
    domain = [m for m in edges if m not in EDGE]
    by_height = {}
    for m in domain:
        by_height.setdefault(height[m], []).append(m)
    print("module graph, lowest layer first (each imports only layers below it):")
    for h in sorted(by_height):
        for m in sorted(by_height[h]):
            deps = ", ".join(sorted(edges[m])) or "-"
            print(f"  {h}  {m:<10} -> {deps}")
    print("  edge: " + ", ".join(sorted(m for m in edges if m in EDGE)))
    if problems:
        for p in problems:
            print("FAIL " + p)
        sys.exit(1)
    print("ok: no import circle, no upward import, no web framework below http")


if __name__ == "__main__":
    main()
