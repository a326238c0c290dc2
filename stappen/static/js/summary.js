// Check-your-answers: list the answers on the current path, each with a
// change link that returns here.
import { readJson, stepHref } from "./stappen.js";

function formatValue(entry, value, labels, lang) {
  const locale = lang === "nl" ? "nl-NL" : "en-GB";
  switch (entry.type) {
    case "yesno":
      return value ? labels.yes : labels.no;
    case "choice":
      return entry.options[value] || value;
    case "choices":
      return value.map((item) => entry.options[item] || item).join(", ");
    case "amount":
      return new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" })
        .format(value);
    case "number":
      return new Intl.NumberFormat(locale).format(value);
    case "date": {
      const [year, month, day] = value.split("-").map(Number);
      return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" })
        .format(new Date(Date.UTC(year, month - 1, day)));
    }
    default:
      return String(value);
  }
}

export function renderSummary({ flow, stepId, summary, state, path }) {
  const labels = readJson("stappen-labels");
  const lang = readJson("stappen-messages").lang;
  const rows = [];
  for (const id of path.slice(0, path.indexOf(stepId))) {
    const entry = labels.questions[id];
    if (!entry || !(id in state.answers)) continue;
    const row = document.createElement("div");
    row.className = "utrecht-data-list__item";
    const term = document.createElement("dt");
    term.className = "utrecht-data-list__item-key";
    term.textContent = entry.title;
    const value = document.createElement("dd");
    value.className = "utrecht-data-list__item-value";
    value.textContent = formatValue(entry, state.answers[id], labels, lang);
    const actions = document.createElement("dd");
    actions.className = "utrecht-data-list__actions";
    const change = document.createElement("a");
    change.className = "utrecht-link";
    change.href = stepHref(id, stepId);
    change.textContent = labels.change;
    const hidden = document.createElement("span");
    hidden.className = "stappen-visually-hidden";
    hidden.textContent = ` ${entry.title}`;
    change.append(hidden);
    actions.append(change);
    row.append(term, value, actions);
    rows.push(row);
  }
  summary.replaceChildren(...rows);
  document.querySelector("[data-stappen-no-answers]").hidden = rows.length > 0;
}
