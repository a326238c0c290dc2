// A question page: fill in the stored answer, check the new one, store it
// and go to the next step.
import {
  loadState,
  nextStep,
  parseAmount,
  parseDate,
  parseNumber,
  predictedPath,
  readJson,
  relevantAnswers,
  stepHref,
} from "./stappen.js";

const PARSERS = {
  amount: (text) => parseAmount(text, {}),
  number: (text, answer) => parseNumber(text, { integer: !!answer.integer }),
  date: (text) => parseDate(text),
};

function inputs(form) {
  return Array.from(form.querySelectorAll("[name=answer]"));
}

function fill(form, answer, value, entered) {
  if (value === undefined) {
    return;
  }
  if (answer.type === "yesno" || answer.type === "choice") {
    const wanted = String(value);
    for (const input of inputs(form)) input.checked = input.value === wanted;
  } else if (answer.type === "choices") {
    for (const input of inputs(form)) input.checked = value.includes(input.value);
  } else {
    inputs(form)[0].value = entered !== undefined ? entered : String(value);
  }
}

// Returns {value, entered} for a valid answer, or {error: key, message}.
export function readAnswer(form, answer) {
  if (answer.type === "yesno" || answer.type === "choice") {
    const checked = inputs(form).find((input) => input.checked);
    if (!checked) return answer.required ? { error: "required" } : { skip: true };
    if (answer.type === "yesno") return { value: checked.value === "true" };
    return { value: checked.value };
  }
  if (answer.type === "choices") {
    const values = inputs(form).filter((i) => i.checked).map((i) => i.value);
    if (!values.length && answer.required) return { error: "required" };
    return { value: values };
  }
  const entered = inputs(form)[0].value.trim();
  if (!entered) return answer.required ? { error: "required" } : { skip: true };
  if (answer.type === "text") {
    if (answer.max_length && entered.length > answer.max_length) {
      return { error: "too_long" };
    }
    return { value: entered, entered };
  }
  const parsed = PARSERS[answer.type](entered, answer);
  if (!parsed.ok) return { error: parsed.key, message: parsed.message };
  const value = answer.type === "date" ? parsed.value : Number(parsed.value);
  return checkBounds(answer, value) || { value, entered };
}

function checkBounds(answer, value) {
  if (answer.min !== undefined && value < answer.min) return { error: "min" };
  if (answer.max !== undefined && value > answer.max) return { error: "max" };
  return null;
}

function formatBound(answer, bound, lang) {
  if (answer.type === "date") {
    const [year, month, day] = bound.split("-").map(Number);
    const date = new Date(Date.UTC(year, month - 1, day));
    return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeZone: "UTC" })
      .format(date);
  }
  const options = answer.type === "amount" ? { style: "currency", currency: "EUR" } : {};
  return new Intl.NumberFormat(lang === "nl" ? "nl-NL" : "en-GB", options).format(bound);
}

// The author's message for the key, else the author's default, else the
// parser's own message, else the portal's built-in message.
export function errorMessage(messages, answer, result) {
  const lang = messages.lang;
  const authored = messages.errors || {};
  if (authored[result.error]) return authored[result.error];
  if (authored.default) return authored.default;
  if (result.message && result.message[lang]) return result.message[lang];
  const ui = messages.ui;
  if (result.error === "required") {
    const choosing = ["yesno", "choice", "choices"].includes(answer.type);
    return choosing ? ui.error_required_choice : ui.error_required;
  }
  const suffix = answer.type === "date" ? "_date" : "";
  const template = ui[`error_${result.error}${suffix}`] || ui[`error_${result.error}`] ||
    ui.error_invalid;
  return template
    .replace("{min}", answer.min !== undefined ? formatBound(answer, answer.min, lang) : "")
    .replace("{max}", answer.max !== undefined ? formatBound(answer, answer.max, lang) : "")
    .replace("{max_length}", answer.max_length || "");
}

function showError(form, stepId, message) {
  const summary = document.querySelector("[data-stappen-error-summary]");
  const list = summary.querySelector("[data-stappen-error-list]");
  const target = form.querySelector("[data-stappen-first]");
  const link = document.createElement("a");
  link.href = `#${target.id}`;
  link.className = "utrecht-link";
  link.textContent = message;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    target.focus();
  });
  const item = document.createElement("li");
  item.append(link);
  list.replaceChildren(item);
  summary.hidden = false;

  const inline = document.getElementById(`error-${stepId}`);
  inline.textContent = message;
  inline.hidden = false;
  const field = form.querySelector("[data-stappen-field]");
  field.classList.add("utrecht-form-field--invalid", "utrecht-form-fieldset--invalid");
  for (const input of inputs(form)) {
    input.setAttribute("aria-invalid", "true");
    describeBy(input, inline.id);
  }
  const prefix = readJson("stappen-messages").ui.error_prefix || "Fout";
  if (!document.title.startsWith(`${prefix}: `)) {
    document.title = `${prefix}: ${document.title}`;
  }
  summary.focus();
}

function describeBy(element, id) {
  const ids = (element.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!ids.includes(id)) ids.unshift(id);
  element.setAttribute("aria-describedby", ids.join(" "));
}

function destination(flow, stepId, answers, returnTo) {
  const next = nextStep(flow, stepId, answers);
  if (!returnTo) return stepHref(next);
  const path = predictedPath(flow, answers);
  const before = path.slice(0, path.indexOf(returnTo));
  const complete = path.includes(returnTo) && before.every(
    (id) => flow.steps[id].kind !== "question" || id in answers ||
      !flow.steps[id].answer.required,
  );
  return complete ? stepHref(returnTo) : stepHref(next, returnTo);
}

// Fill in the stored answer; called again when the browser shows the page
// from its back/forward cache, where the form may hold an older answer.
export function fillQuestion({ flow, stepId, form, state }) {
  const answer = flow.steps[stepId].answer;
  fill(form, answer, state.answers[stepId], state.entered[stepId]);
}

export function bindQuestion({ flow, stepId, form, returnTo, saveState }) {
  const answer = flow.steps[stepId].answer;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const messages = readJson("stappen-messages");
    const result = readAnswer(form, answer);
    if (result.error) {
      showError(form, stepId, errorMessage(messages, answer, result));
      return;
    }
    // Read the answers again: another page of this tab may have changed
    // them since this page was loaded.
    const state = loadState(flow);
    const answers = { ...state.answers };
    const entered = { ...state.entered };
    delete answers[stepId];
    delete entered[stepId];
    if (!result.skip) {
      answers[stepId] = result.value;
      if (result.entered !== undefined) entered[stepId] = result.entered;
    }
    const kept = relevantAnswers(flow, answers);
    for (const id of Object.keys(entered)) if (!(id in kept)) delete entered[id];
    saveState(flow, { answers: kept, entered });
    window.location.href = destination(flow, stepId, kept, returnTo);
  });
}
