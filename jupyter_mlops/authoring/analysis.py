"""Static analysis of one cell: which names it reads, writes, mutates, deletes and imports.

Names are tracked at the notebook's top level (the cell's global scope). Nested scopes
(functions, lambdas, classes, comprehensions) contribute the global names they read and
the globals they assign (``global x``) or mutate, since those run against the notebook
namespace when called. Reads are "free": read before the cell itself binds the name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from jupyter_mlops.authoring import ipython_syntax
from jupyter_mlops.authoring.code_limits import CodeTooComplex, parse_bounded

MUTATING_METHODS = frozenset(
    {
        "append", "extend", "insert", "pop", "popitem", "remove", "clear", "update",
        "setdefault", "sort", "reverse", "add", "discard", "difference_update",
        "intersection_update", "symmetric_difference_update", "fit", "partial_fit",
        "fit_transform", "fit_predict", "set_params", "set_output", "resize", "fill",
        "itemset", "put", "__setitem__", "__delitem__",
    }
)  # fmt: skip
"""Methods that change their receiver in place (lists, dicts, sets, arrays, estimators)."""

ARGUMENT_MUTATORS = frozenset({"shuffle", "copyto", "fill_diagonal", "place", "setattr", "delattr"})
"""Functions or methods that change their first argument in place."""

_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


@dataclass
class CodeAnalysis:
    """What one cell does to the notebook namespace. Lists keep first-seen order."""

    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    mutated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    imports: dict[str, str] = field(default_factory=dict)
    global_writes: list[str] = field(default_factory=list)
    magic_lines: list[int] = field(default_factory=list)


def analyze_code(code: str) -> CodeAnalysis:
    """Analyse a cell's code (IPython magics allowed). Raises SyntaxError on invalid code."""
    tree, magic_lines = parse_cell(code)
    result = analyze_tree(tree)
    result.magic_lines = magic_lines
    return result


def parse_cell(code: str) -> tuple[ast.Module, list[int]]:
    """Parse cell code to an AST; magic lines are translated first. Returns (tree, magic lines).
    Code too large or deeply nested to analyse raises CodeTooComplex (a SyntaxError)."""
    try:
        return parse_bounded(code), []
    except CodeTooComplex:
        raise
    except SyntaxError:
        python, magic_lines = ipython_syntax.to_python(code)
        if not magic_lines:
            raise
        return parse_bounded(python), magic_lines


def analyze_tree(tree: ast.Module) -> CodeAnalysis:
    """Analyse an already parsed cell."""
    visitor = _CellVisitor(bound_anywhere=scope_bindings(tree.body))
    for statement in tree.body:
        visitor.visit(statement)
    return visitor.result


def base_name(node: ast.expr) -> str | None:
    """The variable at the root of ``x.a[1].b``, or None when the root is not a name."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def import_bindings(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str]]:
    """Each (bound name, single-name import statement) of an import statement."""
    for alias in node.names:
        if alias.name == "*":
            continue
        if isinstance(node, ast.Import):
            bound = alias.asname or alias.name.split(".")[0]
            statement = ast.unparse(ast.Import(names=[alias]))
        else:
            bound = alias.asname or alias.name
            statement = ast.unparse(
                ast.ImportFrom(module=node.module, names=[alias], level=node.level)
            )
        yield bound, statement


def scope_bindings(body: Iterable[ast.AST]) -> set[str]:
    """Names bound directly in a scope (not in nested scopes), before global/nonlocal."""
    names: set[str] = set()
    for node in _walk_scope(body):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update(bound for bound, _ in import_bindings(node))
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def _walk_scope(body: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node of one scope; nested scopes yield only their parts evaluated here."""
    stack = list(body)[::-1]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(_children_in_scope(node))))


def _children_in_scope(node: ast.AST) -> Iterator[ast.AST]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        yield from node.decorator_list
        yield from _argument_defaults(node.args)
        if node.returns:
            yield node.returns
    elif isinstance(node, ast.Lambda):
        yield from _argument_defaults(node.args)
    elif isinstance(node, ast.ClassDef):
        yield from node.decorator_list
        yield from node.bases
        yield from node.keywords
    elif isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        yield node.generators[0].iter
        yield from (n.target for n in ast.walk(node) if isinstance(n, ast.NamedExpr))
    else:
        yield from ast.iter_child_nodes(node)


def _argument_defaults(args: ast.arguments) -> Iterator[ast.AST]:
    yield from args.defaults
    yield from (d for d in args.kw_defaults if d is not None)
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None and arg.annotation is not None:
            yield arg.annotation


@dataclass
class _NestedEffects:
    """What a nested scope does to enclosing names when it runs."""

    reads: set[str] = field(default_factory=set)
    global_writes: set[str] = field(default_factory=set)
    mutated: set[str] = field(default_factory=set)


def nested_effects(scope: ast.AST) -> _NestedEffects:
    """Names a nested scope reads from, assigns as globals in, or mutates in enclosing scopes."""
    body, params = _scope_body(scope)
    declared_global = {
        n for node in _walk_scope(body) if isinstance(node, ast.Global) for n in node.names
    }
    declared_nonlocal = {
        n for node in _walk_scope(body) if isinstance(node, ast.Nonlocal) for n in node.names
    }
    local = (params | scope_bindings(body)) - declared_global - declared_nonlocal
    effects = _NestedEffects()
    for node in _walk_scope(body):
        if node is not scope and isinstance(node, _SCOPES):
            inner = nested_effects(node)
            effects.reads |= inner.reads - local
            effects.global_writes |= inner.global_writes
            effects.mutated |= inner.mutated - local
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load) and node.id not in local:
                effects.reads.add(node.id)
            elif node.id in declared_global:
                effects.global_writes.add(node.id)
        elif (
            isinstance(node, ast.AugAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id not in local
        ):
            effects.reads.add(node.target.id)
        mutated = _mutation_target(node)
        if mutated and mutated not in local:
            effects.mutated.add(mutated)
    return effects


def _scope_body(scope: ast.AST) -> tuple[list[ast.AST], set[str]]:
    """The nodes evaluated inside a nested scope and the parameters it binds."""
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        args = scope.args
        params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        body = scope.body if isinstance(scope.body, list) else [scope.body]
        return list(body), params
    if isinstance(scope, ast.ClassDef):
        return list(scope.body), set()
    assert isinstance(scope, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp)
    parts: list[ast.AST] = []
    for index, generator in enumerate(scope.generators):
        parts.append(generator.target)
        if index:
            parts.append(generator.iter)
        parts.extend(generator.ifs)
    if isinstance(scope, ast.DictComp):
        parts += [scope.key, scope.value]
    else:
        parts.append(scope.elt)
    return parts, set()


def _mutation_target(node: ast.AST) -> str | None:
    """The variable a statement or call changes in place, if it is one of the known forms."""
    if isinstance(node, ast.Subscript | ast.Attribute) and isinstance(
        node.ctx, ast.Store | ast.Del
    ):
        return base_name(node.value)
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    method = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if method in ARGUMENT_MUTATORS and node.args:
        return base_name(node.args[0])
    if not isinstance(func, ast.Attribute):
        return None
    inplace = any(
        k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords
    )
    if method in MUTATING_METHODS or inplace:
        return base_name(func.value)
    return None


class _CellVisitor(ast.NodeVisitor):
    """Walks a cell's top level in evaluation order."""

    def __init__(self, bound_anywhere: set[str]) -> None:
        self.bound: set[str] = set()
        self.bound_anywhere = bound_anywhere
        self.result = CodeAnalysis()

    def read(self, name: str) -> None:
        if name not in self.bound and name not in self.result.reads:
            self.result.reads.append(name)

    def write(self, name: str) -> None:
        self.bound.add(name)
        if name not in self.result.writes:
            self.result.writes.append(name)
        if name in self.result.deleted:
            self.result.deleted.remove(name)

    def mutate(self, name: str | None) -> None:
        if name is None or name in self.bound:
            return
        self.read(name)
        for names in (self.result.writes, self.result.mutated):
            if name not in names:
                names.append(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.read(node.id)
        elif isinstance(node.ctx, ast.Store):
            self.write(node.id)
        else:
            self.read(node.id)
            self.bound.discard(node.id)
            if node.id in self.result.writes:
                self.result.writes.remove(node.id)
            if node.id not in self.result.deleted:
                self.result.deleted.append(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.read(node.target.id)
            self.write(node.target.id)
        else:
            self.visit(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.visit(node.target)
        self.visit(node.annotation)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.write(node.target.id)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for statement in (*node.body, *node.orelse):
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.generic_visit(node)
        self.mutate(_mutation_target(node))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)
        self.mutate(_mutation_target(node))

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        self.mutate(_mutation_target(node))

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for bound, statement in import_bindings(node):
            self.write(bound)
            self.result.imports[bound] = statement

    visit_ImportFrom = visit_Import

    def visit_Global(self, node: ast.Global) -> None:
        """``global`` at a notebook's top level changes nothing."""

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bound.add(node.name)
        for statement in node.body:
            self.visit(statement)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self.generic_visit(node)
        if node.name:
            self.write(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.write(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.generic_visit(node)
        if node.rest:
            self.write(node.rest)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for part in _children_in_scope(node):
            self.visit(part)
        self._apply_nested(node)
        self.write(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for part in _children_in_scope(node):
            self.visit(part)
        self._apply_nested(node)

    def _visit_comprehension(self, node: ast.AST) -> None:
        for part in _children_in_scope(node):
            self.visit(part)
        self._apply_nested(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension

    def _apply_nested(self, scope: ast.AST) -> None:
        effects = nested_effects(scope)
        for name in sorted(effects.reads - self.bound_anywhere):
            self.read(name)
        for name in sorted(effects.global_writes):
            self.write(name)
            if name not in self.result.global_writes:
                self.result.global_writes.append(name)
        for name in sorted(effects.mutated):
            self.mutate(name)
