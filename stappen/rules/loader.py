"""Load a DMN file: read the XML, resolve types and requirements, compile.

Every problem in the file is collected, then raised together as one DmnError,
so an author gets all of them from one run.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from xml.etree.ElementTree import Element

from stappen.rules import dmnxml, itemtypes
from stappen.rules.dmnxml import attribute, child, children, local_name, text_of
from stappen.rules.errors import DmnError, FeelNameError, FeelSyntaxError
from stappen.rules.feel import Compiler, Scope
from stappen.rules.feelvalues import FeelFunction
from stappen.rules.itemtypes import FeelType
from stappen.rules.model import Decision, DmnModel, InputData
from stappen.rules.tablecompiler import TableCompiler, free_names, hint_for

logger = logging.getLogger(__name__)

_UNSUPPORTED_LOGIC = (
    "context",
    "invocation",
    "relation",
    "list",
    "functionDefinition",
    "conditional",
    "filter",
    "for",
    "every",
    "some",
)


def load_dmn(path: str | Path) -> DmnModel:
    """Load and compile a DMN 1.1 to 1.5 file. Raises DmnError."""
    path = Path(path)
    loader = _Loader(path, str(path))
    return loader.load()


def load_dmn_bytes(content: bytes, name: str) -> DmnModel:
    """Load and compile DMN 1.1 to 1.5 XML from bytes. Raises DmnError.

    ``name`` stands for the file in messages and in the model's ``file``,
    such as the path the bytes were read from or a stored rule table's name.
    """
    loader = _Loader(None, name, content)
    return loader.load()


class _Loader:
    def __init__(self, path: Path | None, file: str, content: bytes | None = None):
        self.path = path
        self.file = file
        self.content = content
        self.problems: list[DmnError] = []
        self.warnings: list[str] = []
        self.compiler = Compiler()

    def problem(self, message: str, element: Element | None = None, **where) -> None:
        line = self.document.line(element) if element is not None else None
        self.problems.append(DmnError(message, file=self.file, line=line, **where))

    def load(self) -> DmnModel:
        if self.content is None:
            data, self.document = dmnxml.read_file(self.path, self.file)
        else:
            data = self.content
            self.document = dmnxml.read_xml(data, self.file)
        root = self.document.root
        if local_name(root) != "definitions":
            raise DmnError(
                f"the root element is <{local_name(root)}>, not <definitions>;"
                " load a DMN file",
                file=self.file,
                line=1,
            )
        self.read_elements(root)
        functions = self.compile_knowledge_models()
        decisions = self.compile_decisions()
        self.check_cycles(decisions)
        if self.problems:
            raise DmnError.collected(self.problems)
        for warning in self.warnings:
            logger.warning("%s", warning)
        return DmnModel(
            file=self.file,
            sha256=hashlib.sha256(data).hexdigest(),
            name=root.get("name"),
            decisions=decisions,
            input_data=self.input_data,
            functions=functions,
            warnings=self.warnings,
        )

    # Reading the elements

    def read_elements(self, root: Element) -> None:
        self.by_id: dict[str, Element] = {}
        for element in root.iter():
            if element.get("id") is not None:
                self.by_id.setdefault(element.get("id"), element)
        self.item_elements = {
            item.get("name"): item for item in children(root, "itemDefinition")
        }
        self.types: dict[str, FeelType] = {}
        self.input_data: dict[str, InputData] = {}
        for element in children(root, "inputData"):
            self.read_input_data(element)
        self.decision_elements = self.named(root, "decision")
        self.knowledge_elements = self.named(root, "businessKnowledgeModel")
        for name in ("import", "decisionService"):
            for element in children(root, name):
                self.problem(f"<{name}> is not supported; remove it", element)

    def named(self, root: Element, tag: str) -> dict[str, Element]:
        found: dict[str, Element] = {}
        for element in children(root, tag):
            name = element.get("name")
            if not name:
                self.problem(f"a <{tag}> has no name; give it a name", element)
            elif name in found or name in self.input_data:
                self.problem(f"the name {name!r} is used twice; rename one", element)
            else:
                found[name] = element
        return found

    def read_input_data(self, element: Element) -> None:
        name = element.get("name")
        if not name:
            self.problem("an <inputData> has no name; give it a name", element)
            return
        variable = child(element, "variable")
        type_ref = None if variable is None else variable.get("typeRef")
        feel_type = self.resolve_type(type_ref, element)
        self.input_data[name] = InputData(name, element.get("id"), feel_type)

    # Types

    def resolve_type(self, type_ref: str | None, element: Element) -> FeelType:
        if type_ref is None or not type_ref.strip():
            return itemtypes.ANY
        base = itemtypes.base_type(type_ref)
        if base is not None:
            return FeelType(type_ref, base)
        name = type_ref.split(":", 1)[-1] if ":" in type_ref else type_ref
        if name in self.types:
            return self.types[name]
        if name in self.item_elements:
            return self.item_type(name)
        known = sorted(set(itemtypes.BASE_TYPES) | set(self.item_elements))
        self.problem(
            f"unknown type {type_ref!r}; use one of {', '.join(known)}",
            element,
        )
        return itemtypes.ANY

    def item_type(self, name: str) -> FeelType:
        element = self.item_elements[name]
        feel_type = FeelType(name)
        self.types[name] = feel_type
        components = children(element, "itemComponent")
        if components:
            feel_type.components = {
                part.get("name"): self.component_type(part) for part in components
            }
        else:
            base = self.resolve_type(text_of(element, "typeRef"), element)
            feel_type.base, feel_type.components = base.base, base.components
            feel_type.collection = base.collection
        feel_type.collection = feel_type.collection or _is_true(element, "isCollection")
        self.read_allowed_values(element, feel_type)
        return feel_type

    def component_type(self, element: Element) -> FeelType:
        nested = children(element, "itemComponent")
        if nested:
            feel_type = FeelType(element.get("name") or "")
            feel_type.components = {
                part.get("name"): self.component_type(part) for part in nested
            }
        else:
            base = self.resolve_type(text_of(element, "typeRef"), element)
            feel_type = FeelType(base.name, base.base, base.components, base.collection)
            feel_type.allowed, feel_type.allowed_text = base.allowed, base.allowed_text
        if _is_true(element, "isCollection"):
            feel_type.collection = True
        self.read_allowed_values(element, feel_type)
        return feel_type

    def read_allowed_values(self, element: Element, feel_type: FeelType) -> None:
        allowed = child(element, "allowedValues")
        text = text_of(allowed)
        if text is None or not text.strip():
            return
        tables = TableCompiler(self, decision=None)
        feel_type.allowed = tables.unary_tests(
            text,
            Scope(frozenset()),
            allowed,
            cell=f"allowed values of {feel_type.name!r}",
        )
        feel_type.allowed_text = text.strip()

    # Business knowledge models

    def compile_knowledge_models(self) -> dict[str, FeelFunction]:
        functions: dict[str, FeelFunction] = {}
        pending = dict(self.knowledge_elements)
        while pending:
            ready = [
                name
                for name, element in pending.items()
                if all(
                    required in functions
                    for required in self.required_knowledge(element)
                )
            ]
            if not ready:
                self.report_knowledge_cycle(pending)
                break
            for name in ready:
                functions[name] = self.compile_knowledge_model(
                    pending.pop(name), functions
                )
        return functions

    def report_knowledge_cycle(self, pending: dict[str, Element]) -> None:
        names = ", ".join(repr(name) for name in pending)
        first = next(iter(pending.values()))
        self.problem(
            f"the business knowledge models {names} require each other in a"
            " cycle or require a missing model; remove the cycle",
            first,
        )

    def required_knowledge(self, element: Element) -> list[str]:
        names = []
        for requirement in children(element, "knowledgeRequirement"):
            target = self.resolve_href(child(requirement, "requiredKnowledge"))
            if target is not None and local_name(target) == "businessKnowledgeModel":
                names.append(target.get("name"))
        return names

    def compile_knowledge_model(self, element: Element, functions) -> FeelFunction:
        name = element.get("name")
        logic = child(element, "encapsulatedLogic")
        if logic is None:
            self.problem("has no <encapsulatedLogic>; add one", element, decision=name)
            return FeelFunction(name, (), lambda arguments: None)
        parameters = tuple(p.get("name") for p in children(logic, "formalParameter"))
        required = self.required_knowledge(element)
        scope = Scope(frozenset(parameters) | frozenset(required))
        body = self.compile_logic(logic, name, scope)
        if isinstance(body, tuple):
            body = body[0]
        static = {model: functions[model] for model in required}

        def call(arguments: list):
            env = dict(static)
            padded = list(arguments) + [None] * (len(parameters) - len(arguments))
            env.update(zip(parameters, padded, strict=False))
            return body(env)

        return FeelFunction(name, parameters, call)

    # Decisions

    def compile_decisions(self) -> dict[str, Decision]:
        decisions = {}
        for name, element in self.decision_elements.items():
            decisions[name] = self.compile_decision(name, element)
        return decisions

    def compile_decision(self, name: str, element: Element) -> Decision:
        decision = Decision(name, element.get("id"), [], [])
        requirements = children(element, "informationRequirement")
        knowledge = self.required_knowledge(element)
        for requirement in requirements:
            self.add_requirement(decision, requirement)
        if not requirements and not knowledge:
            self.add_implicit_inputs(decision, element)
        names = decision.inputs + decision.decisions + knowledge
        logic = self.compile_logic(element, name, Scope(frozenset(names)))
        if isinstance(logic, tuple):
            decision.table = logic[1]
        else:
            decision.expression = logic
        return decision

    def add_requirement(self, decision: Decision, requirement: Element) -> None:
        for kind in ("requiredInput", "requiredDecision"):
            reference = child(requirement, kind)
            if reference is None:
                continue
            target = self.resolve_href(reference, decision=decision.name)
            if target is None:
                continue
            if local_name(target) == "inputData":
                decision.inputs.append(target.get("name"))
            elif local_name(target) == "decision":
                decision.decisions.append(target.get("name"))

    def resolve_href(self, reference: Element | None, **where) -> Element | None:
        if reference is None:
            return None
        href = reference.get("href") or ""
        target = self.by_id.get(href[1:]) if href.startswith("#") else None
        if target is None:
            self.problem(
                f"the requirement refers to {href!r}, which is no element in"
                " this file; write '#' and the id of an element of this file",
                reference,
                **where,
            )
        return target

    def add_implicit_inputs(self, decision: Decision, element: Element) -> None:
        """Make the names of a requirement-less decision its inputs (Camunda)."""
        known = frozenset(self.input_data) | frozenset(self.decision_elements)
        for text, type_ref, where in self.input_expressions(element):
            for name in free_names(text, known):
                if name in self.decision_elements and name != decision.name:
                    decision.decisions.append(name)
                    continue
                if name not in self.input_data:
                    whole = text.strip() == name
                    feel_type = self.resolve_type(type_ref if whole else None, where)
                    self.input_data[name] = InputData(name, None, feel_type, True)
                if name not in decision.inputs:
                    decision.inputs.append(name)

    def input_expressions(self, element: Element):
        table = child(element, "decisionTable")
        if table is None:
            expression = child(element, "literalExpression")
            if expression is not None:
                yield text_of(expression) or "", None, expression
            return
        for clause in children(table, "input"):
            expression = child(clause, "inputExpression")
            if expression is not None:
                yield text_of(expression) or "", expression.get("typeRef"), expression

    def compile_logic(self, element: Element, name: str, scope: Scope):
        """Compile the decision table or literal expression inside ``element``.

        Returns a compiled expression, or for a table the pair of a runner
        and the DecisionTable.
        """
        table = child(element, "decisionTable")
        if table is not None:
            compiled = TableCompiler(self, decision=name).table(table, scope)
            return (lambda env: compiled.evaluate(env, name).value, compiled)
        expression = child(element, "literalExpression")
        if expression is not None:
            return self.literal_expression(expression, name, scope)
        for tag in _UNSUPPORTED_LOGIC:
            found = child(element, tag)
            if found is not None:
                return self.unsupported_logic(found, name)
        self.problem(
            "has no decision logic; add a decision table or a literal expression",
            element,
            decision=name,
        )
        return lambda env: None

    def unsupported_logic(self, found: Element, name: str):
        self.problem(
            f"<{local_name(found)}> is not supported; express the logic as a"
            " decision table or a literal expression",
            found,
            decision=name,
        )
        return lambda env: None

    def literal_expression(self, element: Element, name: str, scope: Scope):
        text = text_of(element) or ""
        where = child(element, "text") or element
        return self.compile_expression(text, scope, where, decision=name)

    def compile_expression(self, text: str, scope: Scope, element: Element, **where):
        """Compile an expression, or report it and return a stand-in."""
        warned = len(self.compiler.warnings)
        try:
            compiled = self.compiler.expression(text, scope)
        except FeelSyntaxError as error:
            self.feel_problem(error, text, element, scope, **where)
            return lambda env: None
        line = self.document.line(element)
        for index in range(warned, len(self.compiler.warnings)):
            located = DmnError(
                self.compiler.warnings[index], file=self.file, line=line, **where
            )
            self.warnings.append(located.location_text())
        return compiled

    def feel_problem(self, error, text, element, scope, *, tests=False, **where):
        column = f" (column {error.column})" if error.column else ""
        if isinstance(error, FeelNameError):
            detail = f"unknown name {error.name!r}"
            fix = _name_fix(scope)
        else:
            detail = error.message
            fix = "" if "; write" in detail else hint_for(tests)
        message = f"cannot read {text.strip()!r}{column}: {detail}{fix}"
        self.problem(message, element, **where)

    def check_cycles(self, decisions: dict[str, Decision]) -> None:
        state: dict[str, str] = {}
        for name in decisions:
            self.visit(name, decisions, state, [])

    def visit(self, name, decisions, state, path) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = path[path.index(name) :] + [name]
            self.problem(
                "the decisions require each other in a cycle: "
                + " -> ".join(repr(step) for step in cycle)
                + "; remove one of these requirements",
                self.decision_elements[name],
                decision=name,
            )
            return
        state[name] = "active"
        for required in decisions[name].decisions:
            self.visit(required, decisions, state, path + [name])
        state[name] = "done"


def _name_fix(scope: Scope) -> str:
    if not scope.names:
        return (
            "; nothing is in scope here, so add an informationRequirement for"
            " the input data or decision it names"
        )
    known = ", ".join(repr(name) for name in sorted(scope.names))
    return (
        f"; the names in scope are {known}: correct the spelling or add an"
        " informationRequirement for it"
    )


def _is_true(element: Element, name: str) -> bool:
    return (attribute(element, name) or "").strip() == "true"
