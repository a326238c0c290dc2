// Runs the shared table of Dutch inputs through stappen/static/js/dutch.js.
// tests/test_dutch.py runs the same table through stappen/dutch.py.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { parseAmount, parseDate, parseNumber } from "../../stappen/static/js/dutch.js";

const tableUrl = new URL("../data/dutch-inputs.json", import.meta.url);
const { cases } = JSON.parse(readFileSync(tableUrl, "utf8"));

function parse(entry) {
  const options = entry.options || {};
  if (entry.kind === "amount") {
    return parseAmount(entry.input, { allowNegative: Boolean(options.allow_negative) });
  }
  if (entry.kind === "number") {
    return parseNumber(entry.input, { integer: Boolean(options.integer) });
  }
  return parseDate(entry.input);
}

cases.forEach((entry, index) => {
  test(`${index} ${entry.kind} ${JSON.stringify(entry.input)}: ${entry.description}`, () => {
    const result = parse(entry);

    if ("expected" in entry) {
      assert.deepStrictEqual(result, { ok: true, value: entry.expected });
      return;
    }
    assert.equal(result.ok, false);
    assert.equal(result.key, entry.error);
    assert.match(result.message.nl, /\S/);
    assert.match(result.message.en, /\S/);
    if (entry.message) assert.deepStrictEqual(result.message, entry.message);
  });
});

test("options may be left out", () => {
  assert.deepStrictEqual(parseAmount("-1"), parseAmount("-1", {}));
  assert.deepStrictEqual(parseNumber("1,5"), { ok: true, value: "1.5" });
});

test("null and undefined count as empty", () => {
  assert.equal(parseAmount(null).key, "empty");
  assert.equal(parseNumber(undefined).key, "empty");
  assert.equal(parseDate(null).key, "empty");
});
