"""Evaluate DMN decision tables and literal expressions, with a trace.

``load_dmn(path)`` reads and compiles a DMN 1.1 to 1.5 file (Camunda exports
included) and raises DmnError for anything outside the supported subset;
``load_dmn_bytes(content, name)`` does the same for XML already in memory.
``model.evaluate(decision, inputs)`` returns an Evaluation with the value,
the values of all evaluated decisions, and a Trace. See docs/rules.md.
"""

from stappen.rules.errors import DmnError
from stappen.rules.loader import load_dmn, load_dmn_bytes
from stappen.rules.model import DmnModel, Evaluation
from stappen.rules.trace import DecisionTrace, Trace

__all__ = [
    "DecisionTrace",
    "DmnError",
    "DmnModel",
    "Evaluation",
    "Trace",
    "load_dmn",
    "load_dmn_bytes",
]
