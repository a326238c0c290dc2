"""Author and caller errors: each names the file, line, decision, rule and cell."""

from __future__ import annotations

import re

import pytest

from stappen.errors import StappenError
from stappen.rules import DmnError, load_dmn

TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/"
    id="d" name="test" namespace="urn:test">
  <inputData id="in_inkomen" name="inkomenPerMaand">
    <variable name="inkomenPerMaand" typeRef="number"/>
  </inputData>
  <decision id="iit" name="iit">
    <informationRequirement><requiredInput href="#in_inkomen"/></informationRequirement>
    <decisionTable hitPolicy="{policy}">
      <input label="inkomenPerMaand">
        <inputExpression typeRef="number"><text>inkomenPerMaand</text></inputExpression>
      </input>
      <output name="toeslag" typeRef="number"/>
      <rule id="DecisionRule_1">
        <inputEntry><text>{test}</text></inputEntry>
        <outputEntry><text>{output}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def write(tmp_path, text: str, name: str = "iit-utrecht.dmn"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def table(tmp_path, policy="FIRST", test="&lt;= 1533", output="60"):
    text = TABLE.format(policy=policy, test=test, output=output)
    return write(tmp_path, text)


def load_error(path) -> DmnError:
    with pytest.raises(DmnError) as caught:
        load_dmn(path)
    return caught.value


def test_dmn_error_is_stappen_error():
    assert issubclass(DmnError, StappenError)


def test_malformed_xml_names_line(tmp_path):
    path = write(
        tmp_path, '<?xml version="1.0"?>\n<definitions>\n<decision>\n</definitions>'
    )
    error = load_error(path)
    assert str(error) == (
        f"{path}:4: not well-formed XML: mismatched tag (column 3); fix the XML,"
        " for example by opening the file in a DMN modeler and saving it again"
    )
    assert error.line == 4


def test_doctype_rejected(tmp_path):
    path = write(
        tmp_path,
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n'
        "<definitions>&a;</definitions>",
    )
    assert str(load_error(path)) == (
        f"{path}:2: DOCTYPE and entity declarations are not allowed in a DMN"
        " file; remove the <!DOCTYPE ...> declaration"
    )


def test_unknown_hit_policy(tmp_path):
    error = load_error(table(tmp_path, policy="SOMETIMES"))
    assert error.decision == "iit"
    assert error.line == 9
    assert error.message == (
        "unknown hit policy 'SOMETIMES'; use one of UNIQUE, ANY, PRIORITY,"
        " FIRST, RULE ORDER, OUTPUT ORDER, COLLECT"
    )


def test_grouped_digits_name_rule_and_cell(tmp_path):
    path = table(tmp_path, test="&lt;= 1,533")
    error = load_error(path)
    assert str(error) == (
        f"{path}:15: decision 'iit', rule 'DecisionRule_1', input"
        " 'inkomenPerMaand': cannot read '<= 1,533' (column 5): ',' separates"
        " two tests, so this reads as '<= 1' or '= 533'; write the number without a"
        " thousands separator (1533) and with a dot for decimals (1.533), or"
        " write '<= 1, = 533' if you meant two tests"
    )
    assert (error.file, error.line) == (str(path), 15)
    assert (error.rule, error.cell) == ("DecisionRule_1", "input 'inkomenPerMaand'")


def test_unsupported_feel_names_cell(tmp_path):
    path = table(tmp_path, output="function(x) x + 1")
    assert str(load_error(path)) == (
        f"{path}:16: decision 'iit', rule 'DecisionRule_1', output 'toeslag':"
        " cannot read 'function(x) x + 1' (column 1): function definitions are"
        " not supported; write a FEEL expression such as 'inkomen * 12'"
        " or '\"tekst\"'"
    )


def test_unknown_name_lists_names_in_scope(tmp_path):
    path = table(tmp_path, output="inkomen * 2")
    assert str(load_error(path)) == (
        f"{path}:16: decision 'iit', rule 'DecisionRule_1', output 'toeslag':"
        " cannot read 'inkomen * 2' (column 1): unknown name 'inkomen'; the"
        " names in scope are 'inkomenPerMaand': correct the spelling or add an"
        " informationRequirement for it"
    )


def test_every_problem_reported(tmp_path):
    path = table(tmp_path, policy="SOMETIMES", test="&lt;= 1,533")
    error = load_error(path)
    assert len(error.problems) == 2
    lines = str(error).splitlines()
    assert lines[0].startswith(f"{path}:9: decision 'iit': unknown hit policy")
    assert lines[1].startswith(f"{path}:15: decision 'iit', rule 'DecisionRule_1'")


CYCLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/"
    id="d" name="cycle" namespace="urn:test">
  <decision id="a" name="a">
    <informationRequirement><requiredDecision href="#b"/></informationRequirement>
    <literalExpression><text>b + 1</text></literalExpression>
  </decision>
  <decision id="b" name="b">
    <informationRequirement><requiredDecision href="#a"/></informationRequirement>
    <literalExpression><text>a + 1</text></literalExpression>
  </decision>
</definitions>
"""


def test_cyclic_requirements(tmp_path):
    path = write(tmp_path, CYCLE)
    assert str(load_error(path)) == (
        f"{path}:4: decision 'a': the decisions require each other in a cycle:"
        " 'a' -> 'b' -> 'a'; remove one of these requirements"
    )


def test_unknown_href(tmp_path):
    path = write(tmp_path, CYCLE.replace('href="#a"', 'href="#zz"'))
    error = load_error(path)
    assert error.message == (
        "the requirement refers to '#zz', which is no element in this file;"
        " write '#' and the id of an element of this file"
    )
    assert error.line == 9


def test_unsupported_boxed_expression(tmp_path):
    text = CYCLE.replace(
        "<literalExpression><text>a + 1</text></literalExpression>",
        "<context/>",
    )
    error = load_error(write(tmp_path, text))
    assert error.message == (
        "<context> is not supported; express the logic as a decision table or a"
        " literal expression"
    )
    assert error.decision == "b"


def test_unknown_decision_names_known_ones(tmp_path):
    model = load_dmn(table(tmp_path))
    with pytest.raises(
        DmnError,
        match=re.escape("unknown decision 'IIT'; the decisions in this file are 'iit'"),
    ):
        model.evaluate("IIT", {"inkomenPerMaand": 1})


def test_missing_input(tmp_path):
    path = table(tmp_path)
    model = load_dmn(path)
    with pytest.raises(DmnError) as caught:
        model.evaluate("iit", {})
    assert str(caught.value) == (
        f"{path}: decision 'iit': missing input 'inkomenPerMaand'; pass a value"
        " for each input that the decision requires, or None if it is unknown"
    )


def test_wrong_input_type(tmp_path):
    path = table(tmp_path)
    model = load_dmn(path)
    with pytest.raises(DmnError) as caught:
        model.evaluate("iit", {"inkomenPerMaand": "1.533,00"})
    assert str(caught.value) == (
        f"{path}: decision 'iit', input 'inkomenPerMaand': expected a number,"
        " got '1.533,00' (str); pass an int, a Decimal or a text such as"
        " '1533.01' (a dot for decimals, no thousands separator)"
    )


def test_boolean_is_no_number(tmp_path):
    model = load_dmn(table(tmp_path))
    with pytest.raises(DmnError, match=r"expected a number, got True \(bool\)"):
        model.evaluate("iit", {"inkomenPerMaand": True})


def test_convertible_inputs_accepted(tmp_path):
    model = load_dmn(table(tmp_path))
    assert model.evaluate("iit", {"inkomenPerMaand": "1533"}).value == 60
    assert model.evaluate("iit", {"inkomenPerMaand": 1533}).value == 60
    assert model.evaluate("iit", {"inkomenPerMaand": 1533.0}).value == 60
    assert model.evaluate("iit", {"inkomenPerMaand": None}).value is None


def test_unknown_type_ref(tmp_path):
    text = TABLE.format(policy="FIRST", test="-", output="1").replace(
        'name="inkomenPerMaand" typeRef="number"',
        'name="inkomenPerMaand" typeRef="geld"',
    )
    error = load_error(write(tmp_path, text))
    assert error.message.startswith(
        "unknown type 'geld'; use one of Any, boolean, context, date,"
    )
    assert error.line == 4


def test_not_a_dmn_file(tmp_path):
    path = write(tmp_path, "<flow/>")
    assert str(load_error(path)) == (
        f"{path}:1: the root element is <flow>, not <definitions>; load a DMN file"
    )


def test_missing_file(tmp_path):
    path = tmp_path / "absent.dmn"
    assert str(load_error(path)) == (
        f"{path}: cannot read the file: No such file or directory; check the path"
    )


def test_dutch_decimal_comma_suggests_number(tmp_path):
    path = table(tmp_path, test="&lt;= 1.400,00")
    error = load_error(path)
    assert str(error) == (
        f"{path}:15: decision 'iit', rule 'DecisionRule_1', input"
        " 'inkomenPerMaand': cannot read '<= 1.400,00' (column 9): ',' separates"
        " two tests, so this reads as '<= 1.4' or '= 00'; write the number"
        " without a thousands separator and with a dot for decimals (1400.00)"
    )


def test_thousands_dots_suggest_number(tmp_path):
    path = table(tmp_path, test="&lt;= 1.000.000")
    error = load_error(path)
    assert str(error) == (
        f"{path}:15: decision 'iit', rule 'DecisionRule_1', input"
        " 'inkomenPerMaand': cannot read '<= 1.000.000' (column 9): expected the"
        " end of the text, found '.000': '1.000.000' has dots as thousands"
        " separators; write it without them (1000000)"
    )
