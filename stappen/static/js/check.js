// A check step: send the citizen's answers (a trial calculation) or the
// verified presentation of a wallet step to POST /api/v1/checks, and show
// the outcome. For an eligible claim-based check the API also offers a
// voucher, whose issuing session this page follows as a wallet step does.
import { endSession, follow, showCode, showStatus, takePresentation } from "./wallet.js";

function part(root, name) {
  return root.querySelector(`[data-stappen-check-${name}]`);
}

function checksUrl(root) {
  return `${root.dataset.api.replace(/\/$/, "")}/api/v1/checks`;
}

// The answers a trial calculation needs, from those still on the path.
function trialAnswers(root, answers) {
  const needed = JSON.parse(root.dataset.inputs);
  return Object.fromEntries(
    needed.filter((id) => id in answers).map((id) => [id, answers[id]]),
  );
}

// Dutch money format: "€ 264", or "€ 264,50" when there are cents.
export function formatAmount(amount, lang) {
  const value = Number(amount);
  const cents = Number.isInteger(value) ? 0 : 2;
  return new Intl.NumberFormat(lang === "nl" ? "nl-NL" : "en-GB", {
    style: "currency",
    currency: "EUR",
    minimumFractionDigits: cents,
    maximumFractionDigits: cents,
  }).format(value);
}

// The problem the citizen can act on, by the API's status and error code.
function errorKey(root, status, code) {
  if (status === 409 && code === "rules_not_in_force") return "check_error_period";
  if (status === 400 && !("walletStep" in root.dataset)) return "check_error_answers";
  if ([404, 409, 422].includes(status)) return "check_error_used";
  return "check_error_unreachable";
}

class CheckFailed extends Error {
  constructor(key, retry) {
    super(key);
    this.key = key;
    this.retry = retry;
  }
}

async function postCheck(root, body) {
  let response;
  try {
    response = await fetch(checksUrl(root), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    console.warn("Stappen: check request failed", error);
    throw new CheckFailed("check_error_unreachable", true);
  }
  const result = await response.json().catch(() => ({}));
  if (!response.ok) {
    console.warn("Stappen: check rejected", response.status, result.message);
    const key = errorKey(root, response.status, result.error);
    throw new CheckFailed(key, key === "check_error_unreachable");
  }
  return result;
}

function announce(root, text) {
  part(root, "status").textContent = text;
}

function showHeading(root, text) {
  const heading = part(root, "heading");
  heading.textContent = text;
  heading.focus();
}

function resultHeading(ui, result) {
  const trial = result.trial ? "trial_" : "";
  return ui[`check_${trial}${result.eligible ? "eligible" : "not_eligible"}`];
}

function showResult(root, messages, result) {
  const ui = messages.ui;
  const amount = part(root, "amount");
  const hasAmount = result.eligible && result.amount !== null;
  amount.hidden = !hasAmount;
  if (hasAmount) {
    amount.textContent = ui.check_amount.replace(
      "{amount}",
      formatAmount(result.amount, messages.lang),
    );
  }
  part(root, "outcome").textContent = result.outcome || result.annotations.join(" ");
  const notice = part(root, "trial-notice");
  if (notice) notice.textContent = result.trial_notice || "";
  part(root, "error").hidden = true;
  part(root, "result").hidden = false;
  announce(root, ui.check_done);
  showHeading(root, resultHeading(ui, result));
}

function showError(root, messages, failure) {
  const ui = messages.ui;
  part(root, "result").hidden = true;
  part(root, "next").hidden = true;
  part(root, "error-text").textContent = ui[failure.key];
  part(root, "retry-row").hidden = !failure.retry;
  part(root, "back").hidden = failure.retry;
  part(root, "error").hidden = false;
  announce(root, ui[failure.key]);
  showHeading(root, ui.check_error_heading);
}

// The voucher's own words for the wallet status messages it shares.
function voucherMessages(messages) {
  const ui = { ...messages.ui, wallet_status_issued: messages.ui.check_voucher_issued };
  for (const status of ["expired", "failed", "rejected", "cancelled", "error"]) {
    ui[`wallet_status_${status}`] = messages.ui.check_voucher_ended;
  }
  return { ...messages, ui };
}

async function offerVoucher(root, messages, voucher) {
  const section = part(root, "voucher");
  const words = voucherMessages(messages);
  section.hidden = false;
  showCode(section, voucher);
  showStatus(section, words, "created");
  try {
    await follow(section, words, voucher, () => true);
  } catch (error) {
    console.warn("Stappen: voucher session", error);
    endSession(section, words, "error");
  }
}

// Run the check once the page has loaded. ``answers`` are the stored answers
// still on the path; ``storeResult(result)`` keeps "eligible" or
// "not-eligible" as this step's answer, for routing, or forgets it on null.
export function bindCheck(root, messages, { answers, storeResult }) {
  let body = null;

  function request() {
    if (body) return body;
    body = { flow: root.dataset.flow, step: root.dataset.step, lang: root.dataset.lang };
    if ("walletStep" in root.dataset) {
      body.presentation = takePresentation(root.dataset.flow, root.dataset.walletStep);
    } else {
      body.answers = trialAnswers(root, answers);
    }
    return body;
  }

  async function run() {
    announce(root, messages.ui.check_busy);
    part(root, "retry-row").hidden = true;
    try {
      if ("walletStep" in root.dataset && !request().presentation) {
        throw new CheckFailed("check_error_no_data", false);
      }
      const result = await postCheck(root, request());
      storeResult(result.result);
      showResult(root, messages, result);
      if (result.voucher) {
        await offerVoucher(root, messages, result.voucher);
      } else {
        part(root, "next").hidden = false;
      }
    } catch (error) {
      if (!(error instanceof CheckFailed)) throw error;
      storeResult(null);
      showError(root, messages, error);
    }
  }

  part(root, "retry").addEventListener("click", run);
  run();
}
