// The citizen's side of a Stappen portal, with no server: answers live in
// sessionStorage for the browser tab, and routing runs the flow's JSON
// Logic conditions with json-logic-js, as stappen/routing.py does in Python.
import { parseAmount, parseDate, parseNumber } from "./dutch.js";
import { bindQuestion, fillQuestion } from "./question.js";
import { renderSummary } from "./summary.js";
import { bindApplication } from "./application.js";
import { bindCheck } from "./check.js";
import { bindDecision } from "./decision.js";
import { bindWallet } from "./wallet.js";

const logic = window.jsonLogic;

function readJson(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

// Storage -----------------------------------------------------------------

function storageKey(flow) {
  return `stappen:${flow.flow}`;
}

export function loadState(flow) {
  try {
    const raw = window.sessionStorage.getItem(storageKey(flow));
    const state = raw ? JSON.parse(raw) : {};
    return { answers: state.answers || {}, entered: state.entered || {} };
  } catch (error) {
    // Storage can be blocked or hold something unreadable: start empty.
    return { answers: {}, entered: {} };
  }
}

function saveState(flow, state) {
  try {
    window.sessionStorage.setItem(storageKey(flow), JSON.stringify(state));
  } catch (error) {
    console.warn("Stappen: answers cannot be kept in this browser", error);
  }
}

// Forget the answers and any verified presentation kept for a check step.
function clearState(flow) {
  try {
    const prefix = `${storageKey(flow)}:`;
    const keys = Object.keys(window.sessionStorage).filter((key) => key.startsWith(prefix));
    for (const key of [storageKey(flow), ...keys]) {
      window.sessionStorage.removeItem(key);
    }
  } catch (error) {
    console.warn("Stappen: answers cannot be cleared", error);
  }
}

// Routing -----------------------------------------------------------------

export function nextStep(flow, stepId, answers) {
  const step = flow.steps[stepId];
  for (const route of step ? step.routes : []) {
    if (!route.if || logic.truthy(logic.apply(route.if, answers))) {
      return route.goto;
    }
  }
  return null;
}

// The path from the start: unanswered questions route as if their answer
// were null, so the path also predicts the steps still to come.
export function predictedPath(flow, answers, from = flow.start) {
  const path = [];
  let current = from;
  while (current && flow.steps[current] && !path.includes(current)) {
    path.push(current);
    current = nextStep(flow, current, answers);
  }
  return path;
}

// Keep only the answers of questions that are still on the path.
export function relevantAnswers(flow, answers) {
  const kept = {};
  for (const stepId of predictedPath(flow, answers)) {
    // A check step's result is kept under its id, like an answer.
    const kind = flow.steps[stepId].kind;
    if ((kind === "question" || kind === "check") && stepId in answers) {
      kept[stepId] = answers[stepId];
    }
  }
  if (Object.keys(kept).length === Object.keys(answers).length) {
    return kept;
  }
  return relevantAnswers(flow, kept);
}

// Keep a check step's result as its answer (null forgets it), then route on.
function storeStepAnswer(flow, stepId, value, returnTo) {
  const state = loadState(flow);
  if (value === null) {
    delete state.answers[stepId];
  } else {
    state.answers[stepId] = value;
  }
  saveState(flow, state);
  refresh(flow, stepId, returnTo);
}

function stepHref(stepId, returnTo) {
  const query = returnTo ? `?terug=${encodeURIComponent(returnTo)}` : "";
  return `../${stepId}/${query}`;
}

// Pages -------------------------------------------------------------------

function updateIndicator(flow, stepId, path) {
  const indicator = document.querySelector("[data-stappen-indicator]");
  const index = path.indexOf(stepId);
  if (!indicator || index < 0) {
    return;
  }
  const n = index + 1;
  const total = path.length;
  const template = indicator.dataset.template || indicator.textContent;
  indicator.dataset.template = template;
  indicator.dataset.n = String(n);
  indicator.dataset.total = String(total);
  const messages = readJson("stappen-messages");
  indicator.textContent = messages.ui.step_of
    .replace("{n}", n)
    .replace("{total}", total);
}

function updateLinks(flow, stepId, path, returnTo) {
  const index = path.indexOf(stepId);
  const back = document.querySelector("[data-stappen-back]");
  if (back && index > 0) {
    back.href = stepHref(path[index - 1]);
  }
  const next = nextStep(flow, stepId, loadState(flow).answers);
  for (const link of document.querySelectorAll("[data-stappen-next]")) {
    if (next) {
      link.href = stepHref(next, returnTo === next ? null : returnTo);
    }
  }
}

function bindRestart(flow) {
  for (const link of document.querySelectorAll("[data-stappen-restart]")) {
    link.addEventListener("click", () => clearState(flow));
  }
}

// Bring the page up to date with the stored answers: on load, and again
// when the browser shows it from the back/forward cache.
function refresh(flow, stepId, returnTo) {
  const state = loadState(flow);
  const path = predictedPath(flow, state.answers);
  updateIndicator(flow, stepId, path);
  updateLinks(flow, stepId, path, returnTo);
  keepReturnInLanguageLinks(returnTo);
  const form = document.querySelector("[data-stappen-question]");
  if (form) {
    fillQuestion({ flow, stepId, form, state });
  }
  const summary = document.querySelector("[data-stappen-summary]");
  if (summary) {
    renderSummary({ flow, stepId, summary, state, path });
  }
}

// The language links keep "?terug=", so that changing language on the
// way back to check-your-answers still returns there.
function keepReturnInLanguageLinks(returnTo) {
  if (!returnTo) {
    return;
  }
  for (const link of document.querySelectorAll("[data-stappen-language]")) {
    const url = new URL(link.href, window.location.href);
    url.searchParams.set("terug", returnTo);
    link.href = url.pathname + url.search;
  }
}

function start() {
  const flow = readJson("stappen-flow");
  if (!flow || !logic) {
    return;
  }
  bindRestart(flow);
  const stepId = document.body.dataset.stappenStep;
  if (!stepId) {
    return;
  }
  const params = new URLSearchParams(window.location.search);
  const returnTo = flow.steps[params.get("terug")] ? params.get("terug") : null;
  const form = document.querySelector("[data-stappen-question]");
  if (form) {
    bindQuestion({ flow, stepId, form, returnTo, saveState });
  }
  refresh(flow, stepId, returnTo);
  const wallet = document.querySelector("[data-stappen-wallet]");
  if (wallet) {
    bindWallet(wallet, readJson("stappen-messages"));
  }
  const check = document.querySelector("[data-stappen-check]");
  if (check) {
    bindCheck(check, readJson("stappen-messages"), {
      answers: relevantAnswers(flow, loadState(flow).answers),
      storeResult: (result) => storeStepAnswer(flow, stepId, result, returnTo),
    });
  }
  const decision = document.querySelector("[data-stappen-decision]");
  if (decision) {
    bindDecision(decision, readJson("stappen-messages"));
  }
  const application = document.querySelector("[data-stappen-application]");
  if (application) {
    bindApplication(application, readJson("stappen-messages"));
  }
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      refresh(flow, stepId, returnTo);
    }
  });
}

export { parseAmount, parseDate, parseNumber, readJson, stepHref };

start();
