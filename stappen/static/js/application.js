// An application step: the citizen's wallet app shares the voucher and the
// data the check used, then this page sends the verified presentation to
// POST /api/v1/applications and shows the application's reference. The page
// keeps {reference, secret} in localStorage for the decision step, and shows
// a link to that step with both in the fragment (#ref=...&key=...), which the
// browser never sends to a server.
import { bindWallet } from "./wallet.js";

function part(root, name) {
  return root.querySelector(`[data-stappen-application-${name}]`);
}

function walletPart(root, name) {
  return root.querySelector(`[data-stappen-wallet-${name}]`);
}

// The storage key of the application made at an application step. The
// decision step's page reads it from localStorage and sessionStorage.
export function applicationKey(flowId, stepId) {
  return `stappen:${flowId}:application:${stepId}`;
}

// Read the application kept under key in window[area], where area is
// "localStorage" or "sessionStorage". Return null when there is none or it
// lacks the reference or the secret, and when the browser blocks that storage,
// which throws on reading window[area] itself.
export function readStoredApplication(area, key) {
  try {
    const stored = JSON.parse(window[area].getItem(key) || "null");
    return stored && stored.reference && stored.secret ? stored : null;
  } catch (error) {
    console.warn("Stappen: the stored application cannot be read", error);
    return null;
  }
}

function storageKey(root) {
  return applicationKey(root.dataset.flow, root.dataset.step);
}

function keep(root, application) {
  try {
    window.localStorage.setItem(storageKey(root), JSON.stringify(application));
  } catch (error) {
    console.warn("Stappen: the application cannot be kept on this device", error);
  }
}

// The decision step's address with the reference and secret in the fragment.
export function reopenUrl(decisionHref, reference, secret) {
  const url = new URL(decisionHref, window.location.href);
  url.hash = new URLSearchParams({ ref: reference, key: secret }).toString();
  return url.toString();
}

// The words for a rejected application, by the API's status and error code.
export function errorKey(status, code) {
  if (code === "voucher_not_eligible") return "application_error_not_eligible";
  if (code === "voucher_redeemed") return "application_error_redeemed";
  if (code === "voucher_rules_unknown") return "application_error_rules";
  if (status === 422) return "application_error_data";
  if (status === 404 || status === 409) return "application_error_again";
  return "application_error_unreachable";
}

class ApplicationFailed extends Error {
  constructor(key) {
    super(key);
    this.key = key;
  }
}

function applicationsUrl(root) {
  return `${root.dataset.api.replace(/\/$/, "")}/api/v1/applications`;
}

async function postApplication(root, presentation) {
  const body = {
    flow: root.dataset.flow,
    step: root.dataset.step,
    lang: root.dataset.lang,
    presentation,
  };
  let response;
  try {
    response = await fetch(applicationsUrl(root), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    console.warn("Stappen: application request failed", error);
    throw new ApplicationFailed("application_error_unreachable");
  }
  const result = await response.json().catch(() => ({}));
  if (response.status !== 201) {
    console.warn("Stappen: application rejected", response.status, result.message);
    throw new ApplicationFailed(errorKey(response.status, result.error));
  }
  return result;
}

function announce(root, text) {
  walletPart(root, "status").textContent = text;
}

function showHeading(root, text) {
  const heading = part(root, "heading");
  heading.textContent = text;
  heading.focus();
}

function hideSharing(root) {
  for (const name of ["start", "again", "qr", "same-device", "cancel-row"]) {
    const element = walletPart(root, name);
    if (element) element.hidden = true;
  }
}

function showApplication(root, messages, application, heading, focus = true) {
  const ui = messages.ui;
  hideSharing(root);
  part(root, "error").hidden = true;
  part(root, "reference").textContent = application.reference;
  part(root, "differs").hidden = application.outcome_matches !== false;
  const reopen = part(root, "reopen");
  if (root.dataset.decisionHref) {
    const url = reopenUrl(root.dataset.decisionHref, application.reference, application.secret);
    reopen.hidden = false;
    part(root, "reopen-link").href = url;
    part(root, "reopen-url").value = url;
  } else {
    reopen.hidden = true;
  }
  part(root, "result").hidden = false;
  walletPart(root, "done").hidden = false;
  const title = part(root, "heading");
  title.textContent = heading;
  if (!focus) return;
  announce(root, `${heading} ${ui.application_reference_label}: ${application.reference}`);
  title.focus();
}

function showError(root, messages, key) {
  const ui = messages.ui;
  walletPart(root, "done").hidden = true;
  part(root, "result").hidden = true;
  part(root, "error-text").textContent = ui[key];
  part(root, "retry-row").hidden = key !== "application_error_unreachable";
  part(root, "voucher").hidden = ![
    "application_error_not_eligible",
    "application_error_rules",
  ].includes(key);
  const shareAgain = ["application_error_again", "application_error_data"].includes(key);
  walletPart(root, "again").hidden = !shareAgain;
  part(root, "error").hidden = false;
  announce(root, ui[key]);
  showHeading(root, ui.application_error_heading);
}

// Run the application step's page: the QR code on request, the application
// once the presentation is verified, or the application made before on this
// device.
export function bindApplication(root, messages) {
  let presentation = null;

  async function apply() {
    announce(root, messages.ui.application_busy);
    part(root, "retry-row").hidden = true;
    try {
      const created = await postApplication(root, presentation);
      const application = {
        reference: created.reference,
        secret: created.secret,
        outcome_matches: created.outcome_matches,
      };
      keep(root, application);
      showApplication(root, messages, application, messages.ui.application_done_heading);
    } catch (error) {
      if (!(error instanceof ApplicationFailed)) throw error;
      showError(root, messages, error.key);
    }
  }

  bindWallet(root, messages, {
    afterVerified: (transactionId) => {
      // The wallet script shows the next button for a verified session; the
      // application has to be made first.
      walletPart(root, "done").hidden = true;
      presentation = transactionId;
      return apply();
    },
  });
  part(root, "retry").addEventListener("click", apply);

  const stored = readStoredApplication("localStorage", storageKey(root));
  if (stored) {
    showApplication(root, messages, stored, messages.ui.application_stored_heading, false);
  }
}
