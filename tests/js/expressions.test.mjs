// Runs the shared JSON Logic table through json-logic-js, the library that the
// portals use in the browser. tests/test_logic.py runs the same table through
// stappen.logic, so both sides must return the expected values.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import jsonLogic from "json-logic-js";

const tableUrl = new URL("../data/expressions.json", import.meta.url);
const { cases } = JSON.parse(readFileSync(tableUrl, "utf8"));

cases.forEach((entry, index) => {
  test(`${index} ${entry.description}`, () => {
    const result = jsonLogic.apply(entry.expression, entry.data);

    assert.deepStrictEqual(result, entry.expected);
  });
});
