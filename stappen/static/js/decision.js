// A decision step: find the citizen's application by its reference and
// secret, show its status in plain words and, once the municipality has
// decided, offer the decision as a credential for the wallet. The secret is
// sent only in the Authorization header of requests to the Stappen API.
import { applicationKey, readStoredApplication } from "./application.js";
import { formatAmount } from "./check.js";
import { endSession, follow, showCode, showStatus } from "./wallet.js";

const RECHECK_MS = 30_000;
const TIME_ZONE = "Europe/Amsterdam";

function part(root, name) {
  return root.querySelector(`[data-stappen-decision-${name}]`);
}

function fill(template, values) {
  return Object.entries(values).reduce(
    (text, [name, value]) => text.replace(`{${name}}`, value),
    template,
  );
}

function locale(lang) {
  return lang === "nl" ? "nl-NL" : "en-GB";
}

function formatDate(iso, lang) {
  const options = { day: "numeric", month: "long", year: "numeric", timeZone: TIME_ZONE };
  return new Intl.DateTimeFormat(locale(lang), options).format(new Date(iso));
}

function formatTime(moment, lang) {
  const options = { hour: "2-digit", minute: "2-digit", timeZone: TIME_ZONE };
  return new Intl.DateTimeFormat(locale(lang), options).format(moment);
}

// Where the reference and secret come from ----------------------------------

// The application page keeps {reference, secret} in localStorage under this
// key. This page keeps what came from the address or the form in
// sessionStorage, for the tab only.
function storageKey(root) {
  return applicationKey(root.dataset.flow, root.dataset.applicationStep);
}

function keepForTab(root, credentials) {
  try {
    window.sessionStorage.setItem(storageKey(root), JSON.stringify(credentials));
  } catch (error) {
    console.warn("Stappen: the application cannot be kept for this tab", error);
  }
}

function forget(root) {
  for (const storage of [window.localStorage, window.sessionStorage]) {
    try {
      storage.removeItem(storageKey(root));
    } catch (error) {
      console.warn("Stappen: the stored application cannot be removed", error);
    }
  }
}

// Read #ref=...&key=... and remove it from the address bar and history at
// once, so that the secret does not stay in the address.
function fromFragment() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const reference = params.get("ref");
  const secret = params.get("key");
  if (!window.location.hash) return null;
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, "", pathname + search);
  return reference && secret ? { reference, secret } : null;
}

function findCredentials(root) {
  const found = fromFragment();
  if (found) {
    keepForTab(root, found);
    return found;
  }
  const key = storageKey(root);
  return (
    readStoredApplication("localStorage", key) || readStoredApplication("sessionStorage", key)
  );
}

// The API ------------------------------------------------------------------

class LookupFailed extends Error {
  constructor(key) {
    super(key);
    this.key = key;
  }
}

function applicationUrl(root, reference, suffix) {
  const api = root.dataset.api.replace(/\/$/, "");
  return `${api}/api/v1/applications/${encodeURIComponent(reference)}${suffix}`;
}

async function callApi(view, suffix, body) {
  const headers = { Authorization: `Bearer ${view.credentials.secret}` };
  if (body) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(applicationUrl(view.root, view.credentials.reference, suffix), {
      method: body ? "POST" : "GET",
      headers,
      body: body ? JSON.stringify(body) : undefined,
      cache: "no-store",
    });
  } catch (error) {
    console.warn("Stappen: application request failed", error);
    throw new LookupFailed("decision_error_unreachable");
  }
  const result = await response.json().catch(() => ({}));
  if (response.status === 401 || response.status === 404) {
    throw new LookupFailed("decision_error_not_found");
  }
  if (!response.ok) {
    console.warn("Stappen: application request rejected", response.status, result.message);
    throw new LookupFailed("decision_error_unreachable");
  }
  return result;
}

// Showing the application ----------------------------------------------------

function announce(view, text) {
  part(view.root, "status").textContent = text;
}

function showHeading(view, key) {
  const heading = part(view.root, "heading");
  const text = view.messages.ui[key];
  if (heading.textContent === text) return;
  heading.textContent = text;
  heading.focus();
}

function statusHeading(application) {
  if (!application.decision) return "decision_pending_title";
  return `decision_${application.decision.outcome}_title`;
}

function showFacts(view, application) {
  const { root, messages } = view;
  const ui = messages.ui;
  const decision = application.decision;
  part(root, "reference").textContent = fill(ui.decision_reference, {
    reference: application.reference,
  });
  part(root, "submitted").textContent = fill(ui.decision_submitted_on, {
    date: formatDate(application.submitted_at, messages.lang),
  });
  const decided = part(root, "decided");
  decided.hidden = !decision;
  if (decision) {
    decided.textContent = fill(ui.decision_decided_on, {
      date: formatDate(decision.decided_at, messages.lang),
    });
  }
}

function showOutcome(view, decision) {
  const { root, messages } = view;
  const amount = part(root, "amount");
  amount.hidden = decision.outcome !== "granted" || decision.amount === null;
  if (!amount.hidden) {
    amount.textContent = fill(messages.ui.decision_amount, {
      amount: formatAmount(decision.amount, messages.lang),
    });
  }
  part(root, "motivation").textContent = decision.motivation;
  part(root, "objection").hidden = decision.outcome !== "rejected";
  part(root, "already").hidden = !decision.credential_issued;
  if (decision.credential_issued) {
    part(root, "offer").querySelector("[data-stappen-wallet-done]").hidden = false;
  }
}

function showApplication(view, application) {
  const { root, messages } = view;
  const decision = application.decision;
  showFacts(view, application);
  part(root, "lookup").hidden = true;
  part(root, "error").hidden = true;
  part(root, "pending").hidden = Boolean(decision);
  part(root, "outcome").hidden = !decision;
  part(root, "result").hidden = false;
  // The heading receives the focus when the status changes; the live
  // region tells when a pending application was checked again.
  if (decision) {
    showOutcome(view, decision);
    part(root, "offer").hidden = false;
    announce(view, "");
  } else {
    announce(view, fill(messages.ui.decision_checked, {
      time: formatTime(new Date(), messages.lang),
    }));
  }
  showHeading(view, statusHeading(application));
}

function showFailure(view, key) {
  const { root, messages } = view;
  part(root, "result").hidden = true;
  part(root, "offer").hidden = true;
  part(root, "error-text").textContent = messages.ui[key];
  part(root, "error").hidden = false;
  announce(view, messages.ui[key]);
  showHeading(view, "decision_error_heading");
}

// The form -----------------------------------------------------------------

function fieldError(root, field, message) {
  const input = root.querySelector(`#decision-${field}`);
  const inline = root.querySelector(`#decision-${field}-error`);
  const container = part(root, `field="${field}"`);
  inline.textContent = message || "";
  inline.hidden = !message;
  container.classList.toggle("utrecht-form-field--invalid", Boolean(message));
  if (message) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${inline.id} decision-${field}-hint`);
  } else {
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", `decision-${field}-hint`);
  }
}

function errorLink(root, field, message) {
  const link = document.createElement("a");
  link.href = `#decision-${field}`;
  link.className = "utrecht-link";
  link.textContent = message;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    root.querySelector(`#decision-${field}`).focus();
  });
  const item = document.createElement("li");
  item.append(link);
  return item;
}

// Show the form with ``errors`` ({field: message}) in a summary that gets
// the focus, as on question pages.
function showForm(view, errors = {}) {
  const { root } = view;
  const summary = part(root, "errors");
  for (const field of ["reference", "code"]) fieldError(root, field, errors[field]);
  const items = Object.entries(errors).map(([field, text]) => errorLink(root, field, text));
  part(root, "error-list").replaceChildren(...items);
  summary.hidden = items.length === 0;
  part(root, "result").hidden = true;
  part(root, "offer").hidden = true;
  part(root, "error").hidden = true;
  part(root, "lookup").hidden = false;
  announce(view, "");
  if (items.length) {
    summary.focus();
  } else {
    showHeading(view, "decision_heading");
  }
}

function formErrors(ui, form) {
  const errors = {};
  if (!form.reference.value.trim()) errors.reference = ui.decision_error_reference_missing;
  if (!form.code.value.trim()) errors.code = ui.decision_error_code_missing;
  return errors;
}

// Following the application and offering the decision ---------------------

// The wallet status messages, in the decision's own words.
function offerMessages(messages) {
  const ui = { ...messages.ui, wallet_status_issued: messages.ui.decision_issued };
  for (const status of ["expired", "failed", "rejected", "cancelled", "error"]) {
    ui[`wallet_status_${status}`] = messages.ui.decision_ended;
  }
  return { ...messages, ui };
}

async function collect(view) {
  const section = part(view.root, "offer");
  const words = offerMessages(view.messages);
  const token = {};
  view.offer = token;
  try {
    const offer = await callApi(view, "/decision-offer", { lang: view.messages.lang });
    showCode(section, offer);
    showStatus(section, words, "created");
    await follow(section, words, offer, () => view.offer === token);
  } catch (error) {
    console.warn("Stappen: decision offer", error);
    endSession(section, words, "error");
  }
}

export function bindDecision(root, messages) {
  const view = { root, messages, credentials: findCredentials(root), offer: null };
  let timer = null;

  async function lookUp() {
    window.clearTimeout(timer);
    announce(view, messages.ui.decision_busy);
    try {
      const application = await callApi(view, "", null);
      showApplication(view, application);
      if (!application.decision) timer = window.setTimeout(recheck, RECHECK_MS);
    } catch (error) {
      if (!(error instanceof LookupFailed)) throw error;
      if (error.key !== "decision_error_not_found") return showFailure(view, error.key);
      forget(root);
      part(root, "lookup").querySelector("form").reference.value = view.credentials.reference;
      showForm(view, { reference: messages.ui[error.key] });
    }
  }

  // Re-check a pending application only while the page is visible.
  function recheck() {
    if (document.visibilityState === "visible") lookUp();
  }

  document.addEventListener("visibilitychange", () => {
    const pending = !part(root, "pending").hidden && !part(root, "result").hidden;
    if (pending && document.visibilityState === "visible") lookUp();
  });
  part(root, "refresh").addEventListener("click", lookUp);
  part(root, "retry").addEventListener("click", lookUp);
  part(root, "collect").addEventListener("click", () => collect(view));
  part(root, "again").addEventListener("click", () => collect(view));
  part(root, "form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const errors = formErrors(messages.ui, form);
    if (Object.keys(errors).length) return showForm(view, errors);
    view.credentials = { reference: form.reference.value.trim(), secret: form.code.value.trim() };
    keepForTab(root, view.credentials);
    return lookUp();
  });

  if (view.credentials) {
    lookUp();
  } else {
    showForm(view);
  }
}
