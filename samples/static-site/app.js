// A static-site client for AuthFunctions: no framework, no build step (lib.js holds what every page shares).
// The access token lives only in memory (a variable); the refresh token in sessionStorage so a
// reload of this tab stays signed in (see README.md for the trade-offs).
"use strict";

const refreshKey = "authfunctions.refresh_token";
const deviceKey = "authfunctions.device_token";
let accessToken = null;

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

// Calls a protected function (with an optional JSON body); on 401 refreshes once, silently, and retries.
async function authorized(path, method = "GET", body = undefined) {
  const send = () => call(path, {
    method,
    headers: body === undefined ? { Authorization: `Bearer ${accessToken}` } : { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
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

$("register-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const response = await postJson("/register", formData(event.target));
    if (!response.ok) throw await problem(response);
    showPasswordReasons(event.target, null);
    const user = await response.json();
    show(`Registered ${user.email}. We sent a link to confirm the address; you can log in now.`);
  } catch (error) { showPasswordReasons(event.target, error); showError(error); }
});

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    // The device token of an earlier login on this browser gives it its own failure counter, so
    // someone guessing this account's password elsewhere cannot lock this browser out.
    const credentials = { ...formData(event.target), device_token: localStorage.getItem(deviceKey) || undefined };
    credentials.remember_me = event.target.remember_me.checked;
    const response = await postJson("/login", credentials);
    if (!response.ok) {
      const error = await problem(response);
      if (error.type === EMAIL_NOT_VERIFIED) error.message = "Confirm your email address first: open the link we emailed you, then log in again.";
      if (error.type === MFA_REQUIRED) {
        // The password was right; the second step finishes with the mfa_token (kept in memory only, 5 minutes).
        mfaToken = error.mfaToken;
        event.target.reset();
        $("mfa-login-form").hidden = false;
        $("mfa-login-form").code.focus();
        show("Enter the code from your authenticator app.");
        return;
      }
      throw error;
    }
    const tokens = await response.json();
    if (tokens.device_token) localStorage.setItem(deviceKey, tokens.device_token);
    await signedIn(tokens);
    event.target.reset();
  } catch (error) { showError(error); }
});

let mfaToken = null;

async function signedIn(tokens) {
  keepTokens(tokens);
  const welcome = await (await authorized("/protected")).json();
  render(welcome.message);
  show("Logged in.");
}

$("mfa-login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const code = event.target.code.value.trim();
    // Six digits are an authenticator code; anything else is tried as a recovery code.
    const body = /^[0-9]{6}$/.test(code) ? { mfa_token: mfaToken, code } : { mfa_token: mfaToken, recovery_code: code };
    const response = await postJson("/login/mfa", body);
    if (!response.ok) throw await problem(response);
    mfaToken = null;
    event.target.reset();
    event.target.hidden = true;
    await signedIn(await response.json());
  } catch (error) { showError(error); }
});

$("mfa-start-button").addEventListener("click", async () => {
  try {
    const enrolment = await (await authorized("/mfa/totp", "POST")).json();
    $("mfa-secret").textContent = enrolment.secret;
    // As an image, the SVG cannot run script whatever it holds.
    $("mfa-qr").src = "data:image/svg+xml;base64," + btoa(enrolment.qr_svg);
    $("mfa-enrol").hidden = false;
    $("mfa-recovery").hidden = true;
    show("Scan the code, then enter the code the app shows.");
  } catch (error) { showError(error); }
});

$("mfa-confirm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const confirmed = await (await authorized("/mfa/totp/confirm", "POST", { code: event.target.code.value.trim() })).json();
    event.target.reset();
    $("mfa-enrol").hidden = true;
    $("mfa-recovery-codes").replaceChildren(...confirmed.recovery_codes.map((code) => {
      const item = document.createElement("li");
      item.textContent = code;
      return item;
    }));
    $("mfa-recovery").hidden = false;
    $("mfa-state").textContent = "Two-step sign-in is on.";
    show("Two-step sign-in is on.");
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

$("forgot-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const response = await postJson("/password/forgot", formData(event.target));
    if (!response.ok) throw await problem(response);
    show((await response.json()).message);
  } catch (error) { showError(error); }
});

$("resend-button").addEventListener("click", async () => {
  try {
    show((await (await authorized("/email/verify/send", "POST")).json()).message);
  } catch (error) { showError(error); }
});

$("profile-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const me = await (await authorized("/me", "PATCH", { full_name: event.target.full_name.value })).json();
    $("profile").textContent = JSON.stringify(me, null, 2);
    show("Profile saved.");
  } catch (error) { showError(error); }
});

$("delete-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!confirm("Delete your account for good?")) return;
  const password = event.target.password.value;
  try {
    await authorized("/me", "DELETE", password ? { password } : {});
  } catch (error) {
    // An account made by a provider sign-in has no password: it signs in again there first (federation.js).
    if (error.type === REAUTHENTICATION_REQUIRED && typeof signInAgainAtProvider === "function" && signInAgainAtProvider()) return;
    showError(error);
    return;
  }
  event.target.reset();
  forgetTokens();
  render(null);
  show("Your account is deleted.");
});

$("logout-button").addEventListener("click", async () => {
  try {
    await authorized("/logout", "POST");
  } catch (error) { showError(error); return; }
  forgetTokens();
  render(null);
  show("Logged out everywhere.");
});

// A reload keeps the session: the refresh token in sessionStorage gets a new access token.
(async () => {
  if (sessionStorage.getItem(refreshKey)) {
    try { render((await (await authorized("/protected")).json()).message); } catch { render(null); }
  }
})();
