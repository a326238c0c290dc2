// Parses amounts, numbers and dates as Dutch citizens type them. The rules are
// documented in docs/dutch-input.md. stappen/dutch.py implements the same rules
// in Python, and tests/data/dutch-inputs.json contains the cases that both must
// pass. Each parser returns {ok: true, value} with a canonical string
// ("1533.50", "2.5", "2026-12-31"), or {ok: false, key, message: {nl, en}}.

// No-break space, figure space, thin space and narrow no-break space, which
// word processors and phones put in numbers, count as plain spaces.
const SPACES = /[\u00a0\u2007\u2009\u202f]/g;
const TRIMMED = /^[ \t\r\n]+|[ \t\r\n]+$/g;
const SIGNS = "-+\u2212"; // hyphen-minus, plus, minus sign
const BODY = /^[0-9]+(?:[., ][0-9]+)*$/;

export const FIRST_YEAR = 1900;
export const LAST_YEAR = 2200;

const MONTHS = {
  nl: [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
  ],
  en: [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
  ],
};

// Messages per kind of input and reason, the same texts as in
// stappen/dutch.py. The reason is the error key, except that
// "invalid_grouping" has the key "invalid" and "invalid_month" the key
// "invalid_date", so that a flow's message for a key covers all its reasons.
// Placeholders: {input} is the text as typed, the others are filled in by the
// parser that reports the error.
export const MESSAGES = {
  amount: {
    empty: {
      nl: "Vul een bedrag in, bijvoorbeeld 1533,50.",
      en: "Enter an amount, for example 1533.50.",
    },
    invalid: {
      nl: "“{input}” is geen bedrag. Schrijf alleen cijfers, met een komma voor de centen, bijvoorbeeld 1533,50.",
      en: "“{input}” is not an amount. Write digits only, with a decimal point before the cents, for example 1533.50.",
    },
    ambiguous: {
      nl: "Het bedrag “{input}” is niet eenduidig: bedoelt u {whole} of {decimal_nl}? Schrijf het als {whole} of {decimal_nl}.",
      en: "The amount “{input}” is ambiguous: do you mean {whole} or {decimal_en}? Write it as {whole} or {decimal_en}.",
    },
    invalid_grouping: {
      nl: "In het bedrag “{input}” staan punten, komma's of spaties op de verkeerde plaats. Zet ze alleen tussen groepen van drie cijfers, zoals in 1.533,50, of laat ze weg: 1533,50.",
      en: "The amount “{input}” has points, commas or spaces in the wrong places. Put them only between groups of three digits, as in 1,533.50, or leave them out: 1533.50.",
    },
    too_many_decimals: {
      nl: "Het bedrag “{input}” heeft meer dan twee cijfers achter de komma. Schrijf de centen met twee cijfers, bijvoorbeeld 1533,50.",
      en: "The amount “{input}” has more than two digits after the decimal point. Write the cents with two digits, for example 1533.50.",
    },
    negative: {
      nl: "Het bedrag “{input}” is negatief. Vul een bedrag van 0 of meer in, zonder minteken.",
      en: "The amount “{input}” is negative. Enter an amount of 0 or more, without a minus sign.",
    },
  },
  number: {
    empty: {
      nl: "Vul een getal in, bijvoorbeeld 12 of 2,5.",
      en: "Enter a number, for example 12 or 2.5.",
    },
    invalid: {
      nl: "“{input}” is geen getal. Schrijf alleen cijfers, met een komma voor de decimalen, bijvoorbeeld 12 of 2,5.",
      en: "“{input}” is not a number. Write digits only, with a decimal point before the decimals, for example 12 or 2.5.",
    },
    ambiguous: {
      nl: "Het getal “{input}” is niet eenduidig: bedoelt u {whole} of {decimal_nl}? Schrijf {whole} zonder punt of komma, of schrijf {decimal_nl}0 als u het kommagetal bedoelt.",
      en: "The number “{input}” is ambiguous: do you mean {whole} or {decimal_en}? Write {whole} without a point or comma, or write {decimal_en}0 if you mean the decimal number.",
    },
    invalid_grouping: {
      nl: "In het getal “{input}” staan punten, komma's of spaties op de verkeerde plaats. Zet ze alleen tussen groepen van drie cijfers, zoals in 1.533, of laat ze weg: 1533.",
      en: "The number “{input}” has points, commas or spaces in the wrong places. Put them only between groups of three digits, as in 1,533, or leave them out: 1533.",
    },
  },
  integer: {
    ambiguous: {
      nl: "Het getal “{input}” is niet eenduidig. Bedoelt u {whole}? Schrijf het dan zonder punt of komma: {whole}.",
      en: "The number “{input}” is ambiguous. If you mean {whole}, write it without a point or comma: {whole}.",
    },
    not_integer: {
      nl: "Het getal “{input}” is geen heel getal. Vul een heel getal in, zonder komma, bijvoorbeeld 3.",
      en: "The number “{input}” is not a whole number. Enter a whole number without a decimal point, for example 3.",
    },
  },
  date: {
    empty: {
      nl: "Vul een datum in, bijvoorbeeld 31-12-2026.",
      en: "Enter a date, for example 31-12-2026.",
    },
    invalid: {
      nl: "“{input}” is geen datum. Schrijf de datum als dag-maand-jaar, bijvoorbeeld 31-12-2026.",
      en: "“{input}” is not a date. Write the date as day-month-year, for example 31-12-2026.",
    },
    two_digit_year: {
      nl: "In de datum “{input}” heeft het jaar twee cijfers. Schrijf het jaar met vier cijfers, bijvoorbeeld {in_1900s} of {in_2000s}.",
      en: "The date “{input}” has a two-digit year. Write the year with four digits, for example {in_1900s} or {in_2000s}.",
    },
    year_out_of_range: {
      nl: "Het jaar {year} in de datum “{input}” ligt niet tussen 1900 en 2200. Controleer het jaar.",
      en: "The year {year} in the date “{input}” is not between 1900 and 2200. Check the year.",
    },
    invalid_month: {
      nl: "De datum “{input}” bestaat niet: een jaar heeft 12 maanden. Schrijf de datum als dag-maand-jaar, bijvoorbeeld 31-12-2026.",
      en: "The date “{input}” does not exist: a year has 12 months. Write the date as day-month-year, for example 31-12-2026.",
    },
    invalid_date: {
      nl: "De datum “{input}” bestaat niet: {month_nl} {year} heeft {days} dagen. Controleer de dag.",
      en: "The date “{input}” does not exist: {month_en} {year} has {days} days. Check the day.",
    },
  },
};

// An integer is a number, so it falls back on the number messages.
MESSAGES.integer = { ...MESSAGES.number, ...MESSAGES.integer };

// Thrown inside this module only; the exported parsers turn it into a result.
class Rejection {
  constructor(key, details = {}, reason = key) {
    this.key = key;
    this.details = details;
    this.reason = reason;
  }
}

function fill(template, fields) {
  return template.replace(/\{(\w+)\}/g, (placeholder, name) =>
    name in fields ? fields[name] : placeholder,
  );
}

function run(kind, text, parse) {
  const input = text === undefined || text === null ? "" : String(text);
  try {
    return { ok: true, value: parse(clean(input)) };
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    const templates = MESSAGES[kind][error.reason];
    const fields = { input, ...error.details };
    return {
      ok: false,
      key: error.key,
      message: { nl: fill(templates.nl, fields), en: fill(templates.en, fields) },
    };
  }
}

// Parses an amount in euro, such as "€ 1.533,50", into "1533.50". A negative
// amount is rejected unless allowNegative is true.
export function parseAmount(text, { allowNegative = false } = {}) {
  return run("amount", text, (cleaned) => {
    let [sign, rest] = takeSign(cleaned);
    if (rest.startsWith("€")) {
      rest = rest.slice(1).replace(/^ +/, "");
      if (!sign) [sign, rest] = takeSign(rest);
    }
    const negative = sign === "-" || sign === "\u2212";

    // "25,-" is the Dutch way to write 25 euro without cents, so every point
    // or comma before it groups thousands.
    let whole;
    let fraction = "";
    if (rest.endsWith(",-")) {
      whole = rest.slice(0, -2);
      if (!BODY.test(whole)) throw new Rejection("invalid");
      checkGrouping(whole);
    } else {
      [whole, fraction] = splitNumber(rest, "amount");
    }

    if (fraction.length > 2) throw new Rejection("too_many_decimals");
    const value = toDecimal(negative, whole, fraction.padEnd(2, "0"));
    if (value.startsWith("-") && !allowNegative) throw new Rejection("negative");
    return value;
  });
}

// Parses a number, such as "1.533,25", into "1533.25", dropping trailing zeros
// after the decimal separator. With integer, a fraction other than zero is
// rejected.
export function parseNumber(text, { integer = false } = {}) {
  const kind = integer ? "integer" : "number";
  return run(kind, text, (cleaned) => {
    const [sign, rest] = takeSign(cleaned);
    const negative = sign === "-" || sign === "\u2212";
    const [whole, fullFraction] = splitNumber(rest, kind);

    const fraction = fullFraction.replace(/0+$/, "");
    if (integer && fraction) throw new Rejection("not_integer");
    return toDecimal(negative, whole, fraction);
  });
}

// Parses a date, such as "31-12-2026", "1/2/2026" or "2026-12-31", into
// "YYYY-MM-DD". A date that does not exist is rejected, never moved to the
// next month as JavaScript's Date would.
export function parseDate(text) {
  return run("date", text, (cleaned) => {
    const iso = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$/.exec(cleaned);
    const written = /^([0-9]{1,2})([-/.])([0-9]{1,2})\2([0-9]+)$/.exec(cleaned);

    let year;
    let month;
    let day;
    if (iso) {
      [, year, month, day] = iso;
    } else if (written) {
      let separator;
      [, day, separator, month, year] = written;
      checkYearDigits(day, separator, month, year);
    } else {
      throw new Rejection("invalid");
    }

    return toDate(Number(year), Number(month), Number(day));
  });
}

function clean(input) {
  const cleaned = input.replace(SPACES, " ").replace(TRIMMED, "");
  if (!cleaned) throw new Rejection("empty");
  return cleaned;
}

function takeSign(text) {
  if (text && SIGNS.includes(text[0])) return [text[0], text.slice(1).replace(/^ +/, "")];
  return ["", text];
}

function splitNumber(body, kind) {
  if (!BODY.test(body)) throw new Rejection("invalid");

  const decimalAt = decimalSeparator(body, kind);
  const whole = decimalAt === null ? body : body.slice(0, decimalAt);
  const fraction = decimalAt === null ? "" : body.slice(decimalAt + 1);

  if (!/^[0-9]*$/.test(fraction)) throw new Rejection("invalid", {}, "invalid_grouping");
  checkGrouping(whole);
  return [whole, fraction];
}

function decimalSeparator(body, kind) {
  const points = [];
  for (let index = 0; index < body.length; index += 1) {
    if (body[index] === "." || body[index] === ",") points.push(index);
  }
  if (!points.length) return null;

  const last = points[points.length - 1];
  const chars = new Set(points.map((index) => body[index]));
  if (chars.size === 2) {
    // Both a point and a comma: the last one separates the decimals.
    if (body.split(body[last]).length - 1 > 1) throw new Rejection("invalid", {}, "invalid_grouping");
    return last;
  }
  if (points.length > 1) return null;

  const whole = body.slice(0, last);
  const fraction = body.slice(last + 1);
  if (whole.includes(" ")) return last;
  if (fraction.length === 3 && whole.length <= 3 && !whole.startsWith("0")) {
    const decimals = fraction.slice(0, kind === "amount" ? 2 : 3);
    throw new Rejection("ambiguous", {
      whole: whole + fraction,
      decimal_nl: `${whole},${decimals}`,
      decimal_en: `${whole}.${decimals}`,
    });
  }
  return last;
}

function checkGrouping(whole) {
  const separators = new Set(whole.replace(/[0-9]/g, ""));
  if (!separators.size) return;

  const [first, ...rest] = whole.split(/[., ]/);
  if (
    separators.size > 1 ||
    first.length < 1 ||
    first.length > 3 ||
    first.startsWith("0") ||
    rest.some((group) => group.length !== 3)
  ) {
    throw new Rejection("invalid", {}, "invalid_grouping");
  }
}

// Returns the canonical decimal string: no leading zeros, no "-0".
function toDecimal(negative, whole, fraction) {
  const digits = whole.replace(/[., ]/g, "").replace(/^0+(?=[0-9])/, "");
  const value = fraction ? `${digits}.${fraction}` : digits;
  const isZero = !/[1-9]/.test(value);
  return negative && !isZero ? `-${value}` : value;
}

function checkYearDigits(day, separator, month, year) {
  if (year.length === 2) {
    const written = `${day}${separator}${month}${separator}`;
    throw new Rejection("two_digit_year", {
      in_1900s: `${written}19${year}`,
      in_2000s: `${written}20${year}`,
    });
  }
  if (year.length !== 4) throw new Rejection("invalid");
}

function toDate(year, month, day) {
  if (year < FIRST_YEAR || year > LAST_YEAR) {
    throw new Rejection("year_out_of_range", { year: String(year) });
  }
  if (month < 1 || month > 12) throw new Rejection("invalid_date", {}, "invalid_month");

  const days = daysInMonth(year, month);
  if (day < 1 || day > days) {
    throw new Rejection("invalid_date", {
      year: String(year),
      days: String(days),
      month_nl: MONTHS.nl[month - 1],
      month_en: MONTHS.en[month - 1],
    });
  }
  const pad = (number, width) => String(number).padStart(width, "0");
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

function daysInMonth(year, month) {
  if (month === 2) {
    const isLeap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    return isLeap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
