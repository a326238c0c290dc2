// A wallet step: ask the Stappen API for a session, show its QR code and
// follow the session until it ends. The transaction id is a bearer secret:
// it stays in this page's memory and in request paths. The one exception is
// a verified presentation, whose id goes into sessionStorage for this tab,
// because the check step on a later page sends it to POST /api/v1/checks.
// The check takes the presentation's result once, so the id is useless after.
import { loadState } from "./stappen.js";

const END_STATES = ["verified", "issued", "failed", "rejected", "expired", "cancelled"];
const SUCCESS_STATES = ["verified", "issued"];

function part(root, name) {
  return root.querySelector(`[data-stappen-wallet-${name}]`);
}

// A check page reuses the code and status parts but has no start, new-code
// or cancel button, so a part that is missing is left alone.
function setHidden(root, name, hidden) {
  const element = part(root, name);
  if (element) element.hidden = hidden;
}

// Move the focus to ``target`` when the focused element is hidden now, as
// the button that a keyboard user just pressed hides itself. Without this
// the focus falls back to the page's body, and Enter does nothing.
function moveLostFocus(target) {
  const active = document.activeElement;
  const lost =
    !active || active === document.body || active.closest("[hidden]") !== null;
  if (lost && target) target.focus();
}

function presentationKey(flowId, stepId) {
  return `stappen:${flowId}:presentation:${stepId}`;
}

function keepPresentation(root, transactionId) {
  try {
    window.sessionStorage.setItem(
      presentationKey(root.dataset.flow, root.dataset.step),
      transactionId,
    );
  } catch (error) {
    console.warn("Stappen: the shared data cannot be kept for the check", error);
  }
}

// Read and remove the transaction id of the verified presentation of wallet
// step ``stepId``. Returns null when this tab has none.
export function takePresentation(flowId, stepId) {
  try {
    const key = presentationKey(flowId, stepId);
    const transactionId = window.sessionStorage.getItem(key);
    window.sessionStorage.removeItem(key);
    return transactionId;
  } catch (error) {
    return null;
  }
}

function sessionsUrl(root, suffix = "") {
  return `${root.dataset.api.replace(/\/$/, "")}/api/v1/wallet-sessions${suffix}`;
}

// A section with data-purpose="issue" shows the issuing words where they
// differ. In "submitted", for example, the wallet app is still collecting.
export function showStatus(root, messages, status) {
  const { purpose } = root.dataset;
  const text =
    (purpose && messages.ui[`wallet_status_${purpose}_${status}`]) ||
    messages.ui[`wallet_status_${status}`];
  if (text) part(root, "status").textContent = text;
}

// The session request: the step, and for a pilot issuer the chosen test
// persona or the citizen's own answers that the credential is made from.
function sessionRequest(root) {
  const body = { flow: root.dataset.flow, step: root.dataset.step, lang: root.dataset.lang };
  const persona = root.querySelector("input[name=persona]:checked");
  if (persona) body.persona = persona.value;
  if ("answers" in root.dataset) body.answers = loadState({ flow: root.dataset.flow }).answers;
  return body;
}

async function createSession(root) {
  const response = await fetch(sessionsUrl(root), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(sessionRequest(root)),
  });
  if (!response.ok) throw new Error(`session not created: HTTP ${response.status}`);
  return response.json();
}

export function showCode(root, session) {
  part(root, "code").innerHTML = session.qr_svg;
  part(root, "link").href = session.wallet_url;
  setHidden(root, "qr", false);
  setHidden(root, "same-device", false);
  setHidden(root, "cancel-row", false);
  setHidden(root, "again", true);
  setHidden(root, "start", true);
  moveLostFocus(part(root, "qr"));
}

export function endSession(root, messages, status) {
  showStatus(root, messages, status);
  setHidden(root, "qr", true);
  setHidden(root, "same-device", true);
  setHidden(root, "cancel-row", true);
  const succeeded = SUCCESS_STATES.includes(status);
  setHidden(root, "done", !succeeded);
  setHidden(root, "again", succeeded);
  if (succeeded) {
    part(root, "done").querySelector("a").focus();
  } else {
    moveLostFocus(part(root, "new"));
  }
}

const wait = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

// Poll the session's status until it ends. Polling stops early once
// ``isCurrent`` returns false, because the citizen started another session.
export async function follow(root, messages, session, isCurrent) {
  let delay = session.poll_after_ms;
  while (isCurrent()) {
    await wait(delay);
    if (!isCurrent()) return;
    const url = sessionsUrl(root, `/${encodeURIComponent(session.transaction_id)}/status`);
    const response = await fetch(url);
    if (response.status === 429) {
      delay = Number(response.headers.get("Retry-After") || 1) * 1000;
      continue;
    }
    if (!response.ok) throw new Error(`status failed: HTTP ${response.status}`);
    const { status } = await response.json();
    delay = session.poll_after_ms;
    if (END_STATES.includes(status)) {
      if (status === "verified") keepPresentation(root, session.transaction_id);
      endSession(root, messages, status);
      return;
    }
    showStatus(root, messages, status);
  }
}

// Run a wallet step's buttons. ``afterVerified(transactionId)``, when given,
// takes over once a presentation is verified, as an application step does.
export function bindWallet(root, messages, { afterVerified = null } = {}) {
  let current = null;

  async function start() {
    const token = {};
    current = token;
    try {
      const session = await createSession(root);
      token.session = session;
      showCode(root, session);
      showStatus(root, messages, "created");
      await follow(root, messages, session, () => current === token);
    } catch (error) {
      console.warn("Stappen: wallet session", error);
      endSession(root, messages, "error");
      setHidden(root, "again", false);
      return;
    }
    if (afterVerified && current === token) {
      const presentation = takePresentation(root.dataset.flow, root.dataset.step);
      if (presentation) await afterVerified(presentation);
    }
  }

  async function cancel() {
    const session = current && current.session;
    current = null;
    if (session) {
      const url = sessionsUrl(root, `/${encodeURIComponent(session.transaction_id)}`);
      await fetch(url, { method: "DELETE" }).catch(() => null);
    }
    endSession(root, messages, "cancelled");
  }

  part(root, "start").addEventListener("click", start);
  part(root, "new").addEventListener("click", start);
  part(root, "cancel").addEventListener("click", cancel);
}
