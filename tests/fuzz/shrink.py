"""Shrinks a diverging program by greedy deletion on its AST: one edit at a time, keeping each
edit after which the program still diverges, until a whole pass over the program keeps none.

Edits, tried in source order: delete a statement (anywhere: top level, function and class
bodies, loop, `if`, `with` and `try` bodies), delete an `except` clause, delete an element
of a tuple or list display, replace a binary operation by one of its operands. A body left
empty becomes `pass`; an edit that leaves invalid Python is skipped.

`ast.unparse` writes the result, so comments and the generator's layout are lost.
"""

import ast
import copy

_BODIES = ("body", "orelse", "finalbody", "handlers")


def _slots(tree):
    """Every (parent, field, index, child) of `tree`, depth first in source order; index is
    None for a child held directly by the field. The same tree gives the same sequence, so a
    position in it names the same node in a deep copy."""
    out = []

    def visit(node):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        out.append((node, name, i, child))
                        visit(child)
            elif isinstance(value, ast.AST):
                out.append((node, name, None, value))
                visit(value)

    visit(tree)
    return out


def _edits(tree):
    """The edits to try on `tree`: (slot position, what) pairs."""
    edits = []
    for k, (parent, name, index, child) in enumerate(_slots(tree)):
        if name in _BODIES and index is not None and not isinstance(child, ast.Pass):
            edits.append((k, "delete"))
        elif name == "elts" and len(parent.elts) > 1:
            edits.append((k, "delete"))
        elif isinstance(child, ast.BinOp):
            edits += [(k, "left"), (k, "right")]
    return edits


def _apply(tree, edit):
    """A copy of `tree` with `edit` made, as source text, or None if it is not valid Python."""
    tree = copy.deepcopy(tree)
    k, what = edit
    parent, name, index, child = _slots(tree)[k]
    if what == "delete":
        body = getattr(parent, name)
        del body[index]
        if not body and name == "body":
            body.append(ast.Pass())
    else:
        replacement = getattr(child, what)
        if index is None:
            setattr(parent, name, replacement)
        else:
            getattr(parent, name)[index] = replacement
    try:
        text = ast.unparse(tree)
        compile(text, "<shrink>", "exec")
    except (SyntaxError, ValueError):
        return None
    return tree, text


def shrink(source, diverges, max_checks=2000):
    """The smallest program found that still `diverges(source) -> bool`, with at most
    `max_checks` calls of `diverges`. If the unparsed `source` no longer diverges (moved
    line numbers can matter), `source` is returned unchanged."""
    tree = ast.parse(source)
    best = ast.unparse(tree)
    if not diverges(best):
        return source
    checks = 0
    changed = True
    while changed and checks < max_checks:
        changed = False
        k = 0
        while checks < max_checks:
            edits = _edits(tree)
            if k >= len(edits):
                break
            result = _apply(tree, edits[k])
            if result is not None:
                checks += 1
                if diverges(result[1]):
                    tree, best = result
                    changed = True
                    continue  # the edit at position k is now a different one: try it
            k += 1
    return best + "\n"
