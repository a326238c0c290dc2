"""Hit policies, on small decision tables written into temporary files."""

from __future__ import annotations

from decimal import Decimal

from stappen.rules import load_dmn

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    id="d" name="test" namespace="urn:test">
  <inputData id="in_leeftijd" name="leeftijd">
    <variable name="leeftijd" typeRef="number"/>
  </inputData>
  <decision id="uitkomst" name="uitkomst">
    <informationRequirement>
      <requiredInput href="#in_leeftijd"/>
    </informationRequirement>
"""


def write_table(tmp_path, policy: str, rules, *, outputs=("uitkomst",), values=None):
    """Write a table over ``leeftijd``; ``rules`` are (id, test, outputs...)."""
    columns = ""
    for name in outputs:
        output_values = ""
        if values and name in values:
            output_values = f"<outputValues><text>{values[name]}</text></outputValues>"
        columns += f'<output name="{name}" typeRef="string">{output_values}</output>'
    rows = ""
    for rule_id, test, *results in rules:
        cells = "".join(f"<outputEntry><text>{r}</text></outputEntry>" for r in results)
        rows += (
            f'<rule id="{rule_id}"><inputEntry><text>{test}</text></inputEntry>'
            f"{cells}</rule>"
        )
    path = tmp_path / "table.dmn"
    path.write_text(
        HEAD
        + f"<decisionTable {policy}>"
        + '<input label="leeftijd"><inputExpression typeRef="number">'
        + "<text>leeftijd</text></inputExpression></input>"
        + columns
        + rows
        + "</decisionTable></decision></definitions>",
        encoding="utf-8",
    )
    return load_dmn(path)


def run(model, age):
    evaluation = model.evaluate("uitkomst", {"leeftijd": age})
    step = evaluation.trace.decisions[-1]
    return evaluation.value, step.matched_rules, step.error


AGES = [
    ("r1", "&gt;= 18", '"volwassen"'),
    ("r2", "&gt;= 12", '"tiener"'),
    ("r3", "&lt; 12", '"kind"'),
]


def test_unique_one_match(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="UNIQUE"', AGES[1:])
    assert run(model, 5) == ("kind", ["r3"], None)


def test_unique_two_matches_is_null(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="UNIQUE"', AGES)
    value, matched, error = run(model, 20)
    assert value is None
    assert matched == ["r1", "r2"]
    assert error == (
        "hit policy UNIQUE allows one matching rule, but 'r1', 'r2' match;"
        " make the rules exclusive or choose another hit policy"
    )


def test_unique_is_default_policy(tmp_path):
    model = write_table(tmp_path, "", AGES)
    assert run(model, 20)[0] is None
    assert model.evaluate("uitkomst", {"leeftijd": 5}).value == "kind"


def test_no_match_is_null(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="UNIQUE"', AGES[:1])
    assert run(model, 5) == (None, [], None)


def test_any_equal_outputs(tmp_path):
    rules = [("r1", "&gt;= 18", '"ja"'), ("r2", "&gt;= 12", '"ja"')]
    model = write_table(tmp_path, 'hitPolicy="ANY"', rules)
    assert run(model, 20) == ("ja", ["r1", "r2"], None)


def test_any_differing_outputs_is_null(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="ANY"', AGES)
    value, matched, error = run(model, 20)
    assert value is None
    assert error == (
        "hit policy ANY needs equal outputs, but the matching rules 'r1', 'r2'"
        " differ; give them the same outputs or choose another hit policy"
    )


def test_first_stops_at_first_match(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="FIRST"', AGES)
    assert run(model, 20) == ("volwassen", ["r1"], None)
    assert run(model, 13) == ("tiener", ["r2"], None)


def test_priority_follows_output_values(tmp_path):
    values = {"uitkomst": '"tiener", "volwassen", "kind"'}
    model = write_table(tmp_path, 'hitPolicy="PRIORITY"', AGES, values=values)
    assert run(model, 20) == ("tiener", ["r1", "r2"], None)


def test_output_outside_output_values_is_null(tmp_path):
    values = {"uitkomst": '"tiener", "volwassen"'}
    model = write_table(tmp_path, 'hitPolicy="FIRST"', AGES, values=values)
    value, matched, error = run(model, 5)
    assert value is None
    assert error == (
        "rule 'r3' gives output 'uitkomst' the value 'kind', which is not one"
        ' of its output values "tiener", "volwassen"'
    )


def test_rule_order_lists_in_rule_order(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="RULE ORDER"', AGES)
    assert run(model, 20) == (["volwassen", "tiener"], ["r1", "r2"], None)


def test_output_order_sorts_by_output_values(tmp_path):
    values = {"uitkomst": '"tiener", "volwassen", "kind"'}
    model = write_table(tmp_path, 'hitPolicy="OUTPUT ORDER"', AGES, values=values)
    assert run(model, 20)[0] == ["tiener", "volwassen"]


def test_collect_without_aggregation(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="COLLECT"', AGES)
    assert run(model, 20)[0] == ["volwassen", "tiener"]


NUMBERS = [("r1", "&gt; 1", "100"), ("r2", "&gt; 2", "200"), ("r3", "&gt; 3", "50")]


def test_collect_sum(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="COLLECT" aggregation="SUM"', NUMBERS)
    assert run(model, 5)[0] == Decimal(350)


def test_collect_min_and_max(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="COLLECT" aggregation="MIN"', NUMBERS)
    assert run(model, 5)[0] == Decimal(50)
    model = write_table(tmp_path, 'hitPolicy="COLLECT" aggregation="MAX"', NUMBERS)
    assert run(model, 5)[0] == Decimal(200)


def test_collect_count(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="COLLECT" aggregation="COUNT"', NUMBERS)
    assert run(model, 5)[0] == Decimal(3)
    assert run(model, 0)[0] == Decimal(0)


def test_collect_sum_of_nothing_is_null(tmp_path):
    model = write_table(tmp_path, 'hitPolicy="COLLECT" aggregation="SUM"', NUMBERS)
    assert run(model, 0)[0] is None


def test_multiple_outputs_give_a_context(tmp_path):
    rules = [("r1", "&gt;= 18", '"ja"', "100"), ("r2", "&lt; 18", '"nee"', "0")]
    model = write_table(
        tmp_path, 'hitPolicy="UNIQUE"', rules, outputs=("status", "bedrag")
    )
    assert run(model, 20)[0] == {"status": "ja", "bedrag": Decimal(100)}


def test_priority_with_multiple_outputs(tmp_path):
    rules = [("r1", "&gt;= 18", '"nee"', "1"), ("r2", "&gt;= 12", '"ja"', "2")]
    values = {"status": '"ja", "nee"'}
    model = write_table(
        tmp_path,
        'hitPolicy="PRIORITY"',
        rules,
        outputs=("status", "bedrag"),
        values=values,
    )
    assert run(model, 20) == (
        {"status": "ja", "bedrag": Decimal(2)},
        ["r1", "r2"],
        None,
    )


def test_annotations_in_trace(tmp_path):
    path = tmp_path / "annotated.dmn"
    path.write_text(
        HEAD
        + '<decisionTable hitPolicy="FIRST">'
        + '<input label="leeftijd"><inputExpression typeRef="number">'
        + "<text>leeftijd</text></inputExpression></input>"
        + '<output name="uitkomst"/>'
        + '<rule id="DecisionRule_1"><description>Volwassenen</description>'
        + "<inputEntry><text>&gt;= 18</text></inputEntry>"
        + "<outputEntry><text>true</text></outputEntry>"
        + "<annotationEntry><text>Artikel 3 lid 1</text></annotationEntry></rule>"
        + "</decisionTable></decision></definitions>",
        encoding="utf-8",
    )
    trace = load_dmn(path).evaluate("uitkomst", {"leeftijd": 20}).trace
    assert trace.decisions[0].annotations == {
        "DecisionRule_1": ["Artikel 3 lid 1", "Volwassenen"]
    }
    assert trace.to_dict()["decisions"][0]["annotations"] == {
        "DecisionRule_1": ["Artikel 3 lid 1", "Volwassenen"]
    }


GRAPH = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/DMN/20151101/dmn.xsd"
    id="g" name="graph" namespace="urn:test">
  <inputData id="in_salaris" name="Monthly Salary">
    <variable name="Monthly Salary" typeRef="feel:number"/>
  </inputData>
  <decision id="d_jaar" name="Yearly Salary">
    <informationRequirement><requiredInput href="#in_salaris"/></informationRequirement>
    <literalExpression><text>12 * Monthly Salary</text></literalExpression>
  </decision>
  <decision id="d_recht" name="Entitled">
    <informationRequirement><requiredDecision href="#d_jaar"/></informationRequirement>
    <knowledgeRequirement><requiredKnowledge href="#b_grens"/></knowledgeRequirement>
    <literalExpression><text>Yearly Salary &lt;= limit(2)</text></literalExpression>
  </decision>
  <businessKnowledgeModel id="b_grens" name="limit">
    <encapsulatedLogic>
      <formalParameter name="people" typeRef="number"/>
      <literalExpression><text>20000 + people * 5000</text></literalExpression>
    </encapsulatedLogic>
  </businessKnowledgeModel>
</definitions>
"""


def test_required_decisions_evaluate_in_order(tmp_path):
    path = tmp_path / "graph.dmn"
    path.write_text(GRAPH, encoding="utf-8")
    model = load_dmn(path)

    evaluation = model.evaluate("Entitled", {"Monthly Salary": "2500"})

    assert evaluation.value is True
    assert evaluation.outputs == {"Yearly Salary": Decimal(30000), "Entitled": True}
    steps = [step.decision for step in evaluation.trace.decisions]
    assert steps == ["Yearly Salary", "Entitled"]
    assert evaluation.trace.decisions[0].inputs == {"Monthly Salary": Decimal(2500)}
    assert evaluation.trace.inputs == {"Monthly Salary": Decimal(2500)}


def test_required_inputs_listed(tmp_path):
    path = tmp_path / "graph.dmn"
    path.write_text(GRAPH, encoding="utf-8")
    assert load_dmn(path).required_inputs("Entitled") == ["Monthly Salary"]
