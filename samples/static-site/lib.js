// Shared by every page of the sample: where the API is, calling it, and reading its Problem Details.
"use strict";

// The API base URL: ?api=… (remembered for this tab, so pages opened from email links in it find it too),
// else the default below. A deployed site sets DEFAULT_API to its API_BASE_URL (an azd output).
const DEFAULT_API = "http://localhost:7071/api";
const apiKey = "authfunctions.api";
const apiParam = new URLSearchParams(location.search).get("api");
if (apiParam) sessionStorage.setItem(apiKey, apiParam);
const apiBase = (apiParam || sessionStorage.getItem(apiKey) || DEFAULT_API).replace(/\/+$/, "");

// The stable problem type of a login refused because the address is not verified yet.
const EMAIL_NOT_VERIFIED = "https://authfunctions.dev/problems/email-not-verified";

// The stable problem type of a login whose right password needs a second step; the answer carries mfa_token.
const MFA_REQUIRED = "https://authfunctions.dev/problems/mfa-required";

// The stable problem type of deleting an account without a password before signing in again at its provider.
const REAUTHENTICATION_REQUIRED = "https://authfunctions.dev/problems/reauthentication-required";

// The stable problem type of a new password the API refuses; its errors entry names the reasons.
const WEAK_PASSWORD = "https://authfunctions.dev/problems/weak-password";
const PASSWORD_REASONS = {
  common: "This is a common password, or made of common words and patterns that are guessed quickly.",
  context: "It contains your email, your name or this site's name.",
  too_short: "Use at least 8 characters.",
  too_long: "Use at most 72 bytes (about 72 letters; fewer with accents or emoji).",
};

const $ = (id) => document.getElementById(id);

function show(message) { $("status").textContent = message; $("error").textContent = ""; }

function showError(error) { $("status").textContent = ""; $("error").textContent = error.message; }

// Turns an RFC 9457 Problem Details answer into a readable message (error.type keeps the problem type).
async function problem(response) {
  let text = `${response.status} ${response.statusText}`;
  let type = null;
  let errors = null;
  let mfaTokenOf = null;
  try {
    const body = await response.json();
    type = body.type || null;
    mfaTokenOf = body.mfa_token || null;
    errors = body.errors || null;
    text = body.title || text;
    if (body.detail) text += `: ${body.detail}`;
    if (body.errors) {
      for (const [field, messages] of Object.entries(body.errors)) text += `\n${field}: ${messages.join(" ")}`;
    }
  } catch { /* not JSON: keep the status line */ }
  const retryAfter = response.headers.get("Retry-After");
  if (retryAfter) text += `\nTry again in ${retryAfter} s.`;
  const error = new Error(text);
  error.type = type;
  error.mfaToken = mfaTokenOf;
  error.errors = errors;
  return error;
}

// Shows why a new password was refused next to its field (or clears that when error is null). The reasons come
// from the API, so the page never judges a password by rules of its own.
function showPasswordReasons(form, error) {
  form.querySelectorAll(".field-error").forEach((element) => element.remove());
  form.querySelectorAll("[aria-invalid]").forEach((input) => { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); });
  if (!error || error.type !== WEAK_PASSWORD || !error.errors || !error.errors.password) return;
  // The reasons are always under errors.password; the field they belong to is the form's new password.
  const input = form.querySelector('input[autocomplete="new-password"]');
  if (!input) return;
  const list = document.createElement("ul");
  list.className = "field-error";
  list.id = `${form.id}-${input.name}-reasons`;
  for (const reason of error.errors.password) {
    const item = document.createElement("li");
    item.dataset.reason = reason;
    item.textContent = PASSWORD_REASONS[reason] || reason;
    list.append(item);
  }
  input.closest("label").after(list);
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", list.id);
}

async function call(path, options = {}) {
  try {
    return await fetch(apiBase + path, options);
  } catch {
    // fetch rejects on network failures and on CORS refusals alike; the browser hides which.
    throw new Error(`Could not reach the API at ${apiBase} (offline, or this site's origin is not allowed by its CORS settings).`);
  }
}

async function postJson(path, body) {
  return call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// The token of an emailed link, taken out of the address bar at once so it stays out of history and bookmarks.
function takeLinkToken() {
  const token = new URLSearchParams(location.search).get("token");
  history.replaceState(null, "", location.pathname);
  return token;
}

function formData(form) {
  return Object.fromEntries([...new FormData(form).entries()].filter(([, value]) => value !== ""));
}

$("api-base") && ($("api-base").textContent = apiBase);
