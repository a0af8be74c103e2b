// A static-site client for AuthFunctions: no framework, no build step.
// The access token lives only in memory (a variable); the refresh token in sessionStorage so a
// reload of this tab stays signed in (see README.md for the trade-offs).
"use strict";

const apiBase = (new URLSearchParams(location.search).get("api") || "http://localhost:7071/api").replace(/\/+$/, "");
const refreshKey = "authfunctions.refresh_token";
const deviceKey = "authfunctions.device_token";
let accessToken = null;

const $ = (id) => document.getElementById(id);

function show(message) { $("status").textContent = message; $("error").textContent = ""; }

function showError(error) { $("status").textContent = ""; $("error").textContent = error.message; }

// Turns an RFC 9457 Problem Details answer into a readable message.
async function problem(response) {
  let text = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    text = body.title || text;
    if (body.detail) text += `: ${body.detail}`;
    if (body.errors) {
      for (const [field, messages] of Object.entries(body.errors)) text += `\n${field}: ${messages.join(" ")}`;
    }
  } catch { /* not JSON: keep the status line */ }
  const retryAfter = response.headers.get("Retry-After");
  if (retryAfter) text += `\nTry again in ${retryAfter} s.`;
  return new Error(text);
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

function keepTokens(tokens) {
  accessToken = tokens.access_token;
  sessionStorage.setItem(refreshKey, tokens.refresh_token);
}

function forgetTokens() {
  accessToken = null;
  sessionStorage.removeItem(refreshKey);
}

// Exchanges the refresh token for a new pair (the old one is spent). False when the session is over.
async function refresh() {
  const refreshToken = sessionStorage.getItem(refreshKey);
  if (!refreshToken) return false;
  const response = await postJson("/refresh", { refresh_token: refreshToken });
  if (!response.ok) { forgetTokens(); return false; }
  keepTokens(await response.json());
  return true;
}

// Calls a protected function; on 401 refreshes once, silently, and retries.
async function authorized(path, method = "GET") {
  const send = () => call(path, { method, headers: { Authorization: `Bearer ${accessToken}` } });
  let response = accessToken ? await send() : null;
  if (!response || response.status === 401) {
    if (!(await refresh())) { render(null); throw new Error("Your session has ended. Please log in again."); }
    $("status").dataset.refreshed = String(Number($("status").dataset.refreshed || 0) + 1);
    response = await send();
  }
  if (!response.ok) throw await problem(response);
  return response;
}

function render(welcome) {
  $("signed-in").hidden = !welcome;
  $("signed-out").hidden = !!welcome;
  $("welcome").textContent = welcome || "";
  if (!welcome) $("profile").textContent = "";
}

function formData(form) {
  return Object.fromEntries([...new FormData(form).entries()].filter(([, value]) => value !== ""));
}

$("register-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const response = await postJson("/register", formData(event.target));
    if (!response.ok) throw await problem(response);
    const user = await response.json();
    show(`Registered ${user.email}. You can log in now.`);
  } catch (error) { showError(error); }
});

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    // The device token of an earlier login on this browser gives it its own failure counter, so
    // someone guessing this account's password elsewhere cannot lock this browser out.
    const credentials = { ...formData(event.target), device_token: localStorage.getItem(deviceKey) || undefined };
    const response = await postJson("/login", credentials);
    if (!response.ok) throw await problem(response);
    const tokens = await response.json();
    if (tokens.device_token) localStorage.setItem(deviceKey, tokens.device_token);
    keepTokens(tokens);
    event.target.reset();
    const welcome = await (await authorized("/protected")).json();
    render(welcome.message);
    show("Logged in.");
  } catch (error) { showError(error); }
});

$("protected-button").addEventListener("click", async () => {
  try {
    const body = await (await authorized("/protected")).json();
    show(body.message);
  } catch (error) { showError(error); }
});

$("me-button").addEventListener("click", async () => {
  try {
    const me = await (await authorized("/me")).json();
    $("profile").textContent = JSON.stringify(me, null, 2);
    show(`Profile of ${me.email} loaded.`);
  } catch (error) { showError(error); }
});

$("logout-button").addEventListener("click", async () => {
  try {
    await authorized("/logout", "POST");
  } catch (error) { showError(error); return; }
  forgetTokens();
  render(null);
  show("Logged out everywhere.");
});

$("api-base").textContent = apiBase;
// A reload keeps the session: the refresh token in sessionStorage gets a new access token.
(async () => {
  if (sessionStorage.getItem(refreshKey)) {
    try { render((await (await authorized("/protected")).json()).message); } catch { render(null); }
  }
})();
