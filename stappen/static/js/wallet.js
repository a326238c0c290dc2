// A wallet step: ask the Stappen API for a session, show its QR code and
// follow the session until it ends. The transaction id is a bearer secret:
// it stays in this page's memory and in request paths, never in storage.
import { loadState } from "./stappen.js";

const END_STATES = ["verified", "issued", "failed", "rejected", "expired", "cancelled"];
const SUCCESS_STATES = ["verified", "issued"];

function part(root, name) {
  return root.querySelector(`[data-stappen-wallet-${name}]`);
}

function sessionsUrl(root, suffix = "") {
  return `${root.dataset.api.replace(/\/$/, "")}/api/v1/wallet-sessions${suffix}`;
}

function showStatus(root, messages, status) {
  const text = messages.ui[`wallet_status_${status}`];
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

function showCode(root, session) {
  part(root, "code").innerHTML = session.qr_svg;
  part(root, "qr").hidden = false;
  part(root, "link").href = session.wallet_url;
  part(root, "same-device").hidden = false;
  part(root, "cancel-row").hidden = false;
  part(root, "again").hidden = true;
  part(root, "start").hidden = true;
}

function endSession(root, messages, status) {
  showStatus(root, messages, status);
  part(root, "qr").hidden = true;
  part(root, "same-device").hidden = true;
  part(root, "cancel-row").hidden = true;
  const succeeded = SUCCESS_STATES.includes(status);
  part(root, "done").hidden = !succeeded;
  part(root, "again").hidden = succeeded;
  if (succeeded) part(root, "done").querySelector("a").focus();
}

const wait = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

async function follow(root, messages, session, isCurrent) {
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
      endSession(root, messages, status);
      return;
    }
    showStatus(root, messages, status);
  }
}

export function bindWallet(root, messages) {
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
      part(root, "again").hidden = false;
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
