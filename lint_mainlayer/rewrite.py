"""Applying chosen fix plans to a module: one transform, then libcst's import visitors."""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from lint_mainlayer.rules.fixes import FixPlan, with_method


class _Apply(cst.CSTTransformer):
    def __init__(self, plans: list[FixPlan]) -> None:
        super().__init__()
        self.calls = {id(p.call): p for p in plans if p.call is not None}
        self.lines = {id(p.statement): p for p in plans if p.statement is not None}
        # Several findings may share one class plan (one build() for all its layers).
        self.classes = {id(p.klass): p for p in plans if p.klass is not None}

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        plan = self.calls.get(id(original_node))
        return plan.new_expr if plan is not None and plan.new_expr is not None else updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.BaseStatement]:
        plan = self.lines.get(id(original_node))
        if plan is None:
            return updated_node
        return cst.FlattenSentinel([updated_node, *plan.after])

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        plan = self.classes.get(id(original_node))
        if plan is None or plan.method is None:
            return updated_node
        return with_method(updated_node, plan.method)


class _AddImports(AddImportsVisitor):
    """libcst's AddImportsVisitor, but new names go after the user's, in their layout."""

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        result = super().leave_ImportFrom(original_node, updated_node)
        if isinstance(result.names, cst.ImportStar) or isinstance(updated_node.names, cst.ImportStar):
            return result
        added = len(result.names) - len(updated_node.names)
        if added <= 0:
            return result
        new, old = list(result.names[:added]), list(updated_node.names)
        separator = old[0].comma if len(old) > 1 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        trailing = old[-1].comma
        names = [*old[:-1], old[-1].with_changes(comma=separator)]
        names += [alias.with_changes(comma=separator) for alias in new[:-1]]
        names.append(new[-1].with_changes(comma=trailing))
        return result.with_changes(names=names)


def apply_plans(module: cst.Module, plans: list[FixPlan]) -> str:
    """The module's code with every plan applied and its imports added or removed."""
    new_module = module.visit(_Apply(plans))
    context = CodemodContext()
    for plan in plans:
        for module_name, obj, alias in plan.add_imports:
            AddImportsVisitor.add_needed_import(context, module_name, obj, alias)
    if any(plan.add_imports for plan in plans):
        new_module = _AddImports(context).transform_module(new_module)
    removals = [r for plan in plans for r in plan.remove_imports]
    if removals:
        context = CodemodContext()
        for module_name, obj, alias in removals:
            RemoveImportsVisitor.remove_unused_import(context, module_name, obj, alias)
        new_module = RemoveImportsVisitor(context).transform_module(new_module)
    return new_module.code
