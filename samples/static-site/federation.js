// Sign-in with an OpenID Connect provider (Microsoft, Google, …) through AuthFunctions: the page keeps its own PKCE
// verifier, the API sends it to the provider and back here with a one-time login code in the fragment (never tokens in
// a URL), and the page exchanges the code, with its verifier, for the usual token pair. Uses app.js's token handling.
"use strict";

const oidcKey = "authfunctions.oidc";
const verifierKey = "authfunctions.oidc_verifier";
const oidcParam = new URLSearchParams(location.search).get("oidc");
if (oidcParam) sessionStorage.setItem(oidcKey, oidcParam);
const oidcProvider = oidcParam || sessionStorage.getItem(oidcKey);

const OIDC_ERRORS = {
  account_exists: "An account already has this email. Log in with your password, then link the provider from your account.",
  access_denied: "The sign-in was cancelled at the provider.",
  temporarily_unavailable: "The provider cannot be reached right now. Try again in a moment.",
  identity_in_use: "This provider account is linked to another account.",
  email_required: "The provider did not give an email address.",
  login_required: "The provider did not confirm a fresh sign-in. Try again.",
};

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// This page's address as the API's Oidc__ReturnUrls lists it (no query, no fragment).
function returnUrl() { return location.origin + location.pathname; }

if (oidcProvider) {
  $("oidc-form").hidden = false;
  $("oidc-link-button").hidden = false;
  $("oidc-name").textContent = oidcProvider;
}

$("oidc-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  // RFC 7636: only this tab, holding the verifier, can spend the login code the API sends back.
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(verifierKey, verifier);
  location.assign(`${apiBase}/oidc/${encodeURIComponent(oidcProvider)}/start?return_to=${encodeURIComponent(returnUrl())}&code_challenge=${challenge}`);
});

// To the provider to link it, or (already linked) to sign in there afresh, which deletion asks of accounts without a password.
async function toProviderLink() {
  try {
    // A page navigation cannot carry the bearer token: a one-time ticket stands in for it.
    const { ticket } = await (await authorized("/oidc/link-ticket", "POST")).json();
    location.assign(`${apiBase}/oidc/${encodeURIComponent(oidcProvider)}/link?return_to=${encodeURIComponent(returnUrl())}&ticket=${encodeURIComponent(ticket)}`);
  } catch (error) { showError(error); }
}

$("oidc-link-button").addEventListener("click", toProviderLink);

// Called by the delete form on 403 reauthentication-required: false when this page knows no provider.
function signInAgainAtProvider() {
  if (!oidcProvider) return false;
  show(`Sign in at ${oidcProvider} once more to confirm it is you.`);
  toProviderLink();
  return true;
}

// Back from the provider: a login code, "linked" or an error in the fragment, taken out of the address bar at once.
(async () => {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (!["code", "error", "linked", "reauthenticated"].some((name) => fragment.has(name))) return;
  history.replaceState(null, "", location.pathname + location.search);
  const verifier = sessionStorage.getItem(verifierKey);
  sessionStorage.removeItem(verifierKey);
  if (fragment.has("error")) {
    showError(new Error(OIDC_ERRORS[fragment.get("error")] || `The sign-in failed (${fragment.get("error")}).`));
    return;
  }
  if (fragment.has("linked")) {
    show(`Linked your ${fragment.get("linked")} account: you can sign in with it from now on.`);
    return;
  }
  if (fragment.has("reauthenticated")) {
    show(`Signed in again at ${fragment.get("reauthenticated")}: you can delete your account in the next 5 minutes.`);
    return;
  }
  try {
    const response = await postJson("/oidc/exchange", { code: fragment.get("code"), code_verifier: verifier });
    if (!response.ok) throw await problem(response);
    keepTokens(await response.json());
    render((await (await authorized("/protected")).json()).message);
    show(`Signed in with ${oidcProvider}.`);
  } catch (error) { showError(error); }
})();
