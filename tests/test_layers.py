"""The layering of the C code, read from its #include lines.

Folders are layers. LAYERS is their order, lowest first, and the one place
it is written down: a file may include files of its own layer or of layers
below it, never above; auth/ never includes fs/. No two modules (a .c and
its .h) include each other, directly or round a circle. Every project
header is included by its path from the top of the tree.
"""
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS = [
    "auth/base",    # log, msg, clock, flock, worker, retry, hash, secret
    "auth/net",     # http, pacer, endpoint, the answers' meaning
    "auth/creds",   # the credentials and where they are kept
    "auth/oauth",   # the authorization flow, the redirect listener
    "auth/api",     # the authenticated call, token refresh
    "auth/cli",     # sprinklrfs auth ...
    "fs/store",     # the SQLite profile store
    "fs/sync",      # listing, scheduling, documents, the counted call
    "fs/view",      # node -> attributes, content, entries, status
    "fs/fuse",      # low-level ops, inodes, invalidation, daemon start
    "fs/cli",       # main(), sprinklrfs sync
]

MAX_C_FILES = 10
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
GENERATED = {"config.h"}


def sources():
    return sorted(p for top in ("auth", "fs") for p in (ROOT / top).rglob("*")
                  if p.suffix in (".c", ".h"))


def rel(path):
    return path.relative_to(ROOT).as_posix()


def layer_of(path):
    folder = str(Path(rel(path)).parent.as_posix())
    return LAYERS.index(folder) if folder in LAYERS else None


def module_of(path):
    return str(Path(rel(path)).with_suffix(""))


def includes(path):
    return [name for name in INCLUDE.findall(path.read_text())
            if name not in GENERATED]


def test_every_file_is_in_a_layer():
    stray = [rel(p) for p in sources() if layer_of(p) is None]
    assert not stray, f"files outside the layers {LAYERS}: {stray}"


def test_no_layer_has_more_than_ten_c_files():
    counts = defaultdict(int)
    for p in sources():
        if p.suffix == ".c":
            counts[str(Path(rel(p)).parent)] += 1
    big = {folder: n for folder, n in counts.items() if n > MAX_C_FILES}
    assert not big, f"folders with more than {MAX_C_FILES} .c files: {big}"


def test_includes_name_files_by_their_path_from_the_top():
    wrong = [(rel(p), name) for p in sources() for name in includes(p)
             if not (ROOT / name).is_file()]
    assert not wrong, f"includes that are not a path from the top: {wrong}"


def test_no_include_reaches_a_layer_above():
    upward = []
    for p in sources():
        for name in includes(p):
            target = ROOT / name
            if not target.is_file() or None in (layer_of(p),
                                                 layer_of(target)):
                continue    # the two tests above say what is wrong
            if layer_of(target) > layer_of(p):
                upward.append(f"{rel(p)} ({LAYERS[layer_of(p)]}) includes "
                              f"{name} ({LAYERS[layer_of(target)]})")
    assert not upward, "includes of a layer above:\n" + "\n".join(upward)


def module_graph():
    graph = defaultdict(set)
    for p in sources():
        for name in includes(p):
            target = ROOT / name
            if target.is_file() and module_of(target) != module_of(p):
                graph[module_of(p)].add(module_of(target))
    return graph


def circles(graph):
    """The strongly connected components with more than one module
    (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def test_no_circle_of_modules():
    found = circles(module_graph())
    assert not found, f"modules that include each other: {found}"


def test_the_circle_check_sees_a_circle():
    """The check itself: a circle of three and a pair are found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"},
             "f": {"a"}}
    assert sorted(circles(graph)) == [["a", "b", "c"], ["d", "e"]]
