"""Every action code the audit log can hold has a label, in English and in Portuguese: `record()` refuses a
code without one (nothing is written), and the source is read to find every code it records, including
the ones it builds (`conversation.bulk_<action>` from bulk.py's own list of actions)."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from channels_app import audit
from channels_app.models import AuditEntry
from conversations.actions.bulk import BULK_ACTIONS
from conversations.models import Label

BASE_DIR = Path(settings.BASE_DIR)

# --- the codes the source records -----------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    module: str  # dotted name
    path: str  # for messages
    node: ast.FunctionDef | ast.AsyncFunctionDef


class Unresolved(Exception):
    pass


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    """The product's packages (every top-level package but the tests), without migrations."""
    for package in sorted(p for p in BASE_DIR.iterdir() if (p / "__init__.py").is_file()):
        if package.name == "tests":
            continue
        for path in sorted(package.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            relative = path.relative_to(BASE_DIR)
            module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            yield module, relative, ast.parse(path.read_text(), filename=str(relative))


def _callee(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return ""


class Source:
    """The product's functions and calls, and what value an expression can have at a call of record()."""

    def __init__(self) -> None:
        self.calls: list[tuple[Function | None, ast.Call]] = []
        self.functions: dict[str, list[Function]] = {}
        for module, path, tree in _modules():
            self._visit(module, str(path), tree, None)

    def _visit(self, module: str, path: str, node: ast.AST, inside: Function | None) -> None:
        for child in ast.iter_child_nodes(node):
            current = inside
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                current = Function(module, path, child)
                self.functions.setdefault(child.name, []).append(current)
            elif isinstance(child, ast.Call):
                self.calls.append((inside, child))
            self._visit(module, path, child, current)

    def audit_entry_writers(self) -> set[str]:
        """Where AuditEntry rows are made (`AuditEntry(...)`, `AuditEntry.objects.create/bulk_create`)."""
        found = set()
        for function, call in self.calls:
            func = call.func
            made = (isinstance(func, ast.Name) and func.id == "AuditEntry") or (
                isinstance(func, ast.Attribute)
                and func.attr in ("create", "bulk_create", "get_or_create", "update_or_create")
                and isinstance(func.value, ast.Attribute)
                and isinstance(func.value.value, ast.Name)
                and func.value.value.id == "AuditEntry"
            )
            if made:
                found.add(f"{function.module}.{function.node.name}" if function else "<module>")
        return found

    def recorded_codes(self) -> tuple[set[str], list[str]]:
        """Every value of `action=` at a call of record(), and what could not be worked out."""
        codes: set[str] = set()
        unresolved: list[str] = []
        for function, call in self.calls:
            if _callee(call) != "record":
                continue
            for keyword in call.keywords:
                if keyword.arg != "action":
                    continue
                if function is None:  # at a module's top level: only a literal can be read
                    unresolved.append(f"line {call.lineno}: {ast.unparse(keyword.value)}")
                    continue
                try:
                    codes |= self.values(keyword.value, function, seen=frozenset())
                except Unresolved as error:
                    unresolved.append(f"{function.path}:{call.lineno}: {error}")
        return codes, unresolved

    def values(self, expr: ast.expr, where: Function, *, seen: frozenset[tuple[str, str]]) -> set[str]:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.values(expr.body, where, seen=seen) | self.values(expr.orelse, where, seen=seen)
        if isinstance(expr, ast.JoinedStr):  # f"conversation.bulk_{action}": every combination
            parts: list[set[str]] = []
            for part in expr.values:
                if isinstance(part, ast.FormattedValue):
                    if part.format_spec is not None or part.conversion != -1:
                        raise Unresolved(ast.unparse(expr))
                    parts.append(self.values(part.value, where, seen=seen))
                else:
                    parts.append(self.values(part, where, seen=seen))
            return {"".join(combination) for combination in product(*parts)}
        if isinstance(expr, ast.Name):
            return self._name(expr.id, where, seen=seen)
        raise Unresolved(f"{ast.unparse(expr)} in {where.node.name}()")

    def _name(self, name: str, where: Function, *, seen: frozenset[tuple[str, str]]) -> set[str]:
        key = (f"{where.module}.{where.node.name}", name)
        if key in seen:
            return set()
        seen = seen | {key}
        found: set[str] = set()
        resolved = False
        for node in ast.walk(where.node):
            # `action = "x"`, `action, membership = "x", None`
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        found |= self.values(node.value, where, seen=seen)
                        resolved = True
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        for index, element in enumerate(target.elts):
                            if isinstance(element, ast.Name) and element.id == name:
                                found |= self.values(node.value.elts[index], where, seen=seen)
                                resolved = True
            # `if action not in BULK_ACTIONS: raise …`: the values are the module's own list.
            elif (
                isinstance(node, ast.If)
                and isinstance(node.test, ast.Compare)
                and isinstance(node.test.left, ast.Name)
                and node.test.left.id == name
                and len(node.test.ops) == 1
                and isinstance(node.test.ops[0], ast.NotIn)
                and isinstance(node.test.comparators[0], ast.Name)
                and any(isinstance(statement, ast.Raise) for statement in node.body)
            ):
                allowed = getattr(importlib.import_module(where.module), node.test.comparators[0].id)
                found |= {str(value) for value in allowed}
                resolved = True
        if not resolved and name in self._parameters(where.node):
            # A parameter: what the function's callers pass (a private function: in its own module).
            for caller, call in self.calls:
                if caller is None or _callee(call) != where.node.name:
                    continue
                if where.node.name.startswith("_") and caller.module != where.module:
                    continue
                argument = self._argument(call, where.node, name)
                if argument is not None:
                    found |= self.values(argument, caller, seen=seen)
                    resolved = True
        if not resolved:
            raise Unresolved(f"{name} in {where.node.name}()")
        return found

    @staticmethod
    def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
        arguments = node.args
        return [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]

    @staticmethod
    def _argument(call: ast.Call, node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> ast.expr | None:
        for keyword in call.keywords:
            if keyword.arg == name:
                return keyword.value
        positional = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
        if name in positional and positional.index(name) < len(call.args):
            return call.args[positional.index(name)]
        return None


@pytest.fixture(scope="module")
def source() -> Source:
    return Source()


def test_record_is_the_only_writer_of_audit_entries(source):
    assert source.audit_entry_writers() == {"channels_app.audit.record"}


def test_every_code_the_source_records_has_a_label(source):
    codes, unresolved = source.recorded_codes()

    assert not unresolved, f"action codes the check cannot work out: {unresolved}"
    # Control: the codes built at run time are found, from bulk.py's own list of actions.
    assert {f"conversation.bulk_{action}" for action in BULK_ACTIONS} <= codes
    assert {"membership.revoked", "channel.deactivated", "preferences.updated", "label.deleted"} <= codes
    assert {"webhooks.connected", "outgoing_webhook.deleted", "canned_reply.created"} <= codes
    missing = sorted(codes - set(audit.ACTION_LABELS))
    assert not missing, f"action codes recorded without a label in ACTION_LABELS: {missing}"


def test_every_label_has_a_portuguese_translation():
    catalog = translation.trans_real.translation("pt-br")._catalog
    untranslated = []
    for code, label in audit.ACTION_LABELS.items():
        with translation.override("en"):
            english = str(label)
        with translation.override("pt-br"):
            portuguese = str(label)
        if portuguese == english and english not in catalog:
            untranslated.append(code)

    assert not untranslated, untranslated
    with translation.override("pt-br"):  # control: the catalog is the one in use
        assert str(audit.ACTION_LABELS["label.deleted"]) == "Etiqueta excluída"


# --- record() refuses a code without a label --------------------------------------------------------


@pytest.mark.django_db
def test_recording_a_code_without_a_label_raises_and_writes_nothing(superuser, app_a):
    with pytest.raises(ValueError, match=re.escape("'application.renamed_maybe' has no label")):
        audit.record(actor=superuser, action="application.renamed_maybe", application=app_a, target=app_a)

    assert not AuditEntry.objects.exists()
    audit.record(actor=superuser, action="application.updated", application=app_a, target=app_a)  # control
    assert AuditEntry.objects.get().action == "application.updated"


@pytest.mark.django_db
def test_a_deletion_with_a_code_without_a_label_deletes_nothing(superuser, app_a):
    label = Label.objects.create(application=app_a, name="VIP")

    with pytest.raises(ValueError, match=re.escape("'label.gone' has no label")):
        audit.delete_recorded(
            actor=superuser, action="label.gone", obj=label, fields=["name"], application=app_a
        )

    assert Label.objects.filter(pk=label.pk).exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_an_entry_about_webhooks_with_a_code_without_a_label_is_refused(superuser, app_a):
    with pytest.raises(ValueError, match=re.escape("'webhooks.vanished' has no label")):
        audit.record_for_webhooks(actor=superuser, action="webhooks.vanished", application=app_a, changes={})

    assert not AuditEntry.objects.exists()
