// Passkeys with AuthFunctions: the browser runs the WebAuthn ceremony (navigator.credentials), the API checks it.
// The options travel as the WebAuthn Level 3 JSON forms, so no base64url code is needed here:
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON in, credential.toJSON() out.
// The access token lives only in memory on this page.
"use strict";

let accessToken = null;

async function authorized(path, method = "GET", body = undefined) {
  const headers = { Authorization: `Bearer ${accessToken}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await call(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw await problem(response);
  return response;
}

function render(email) {
  $("signed-in").hidden = !email;
  $("signed-out").hidden = !!email;
  $("welcome").textContent = email ? `Signed in as ${email}` : "";
  if (!email) $("passkey-list").replaceChildren();
}

async function signedIn(tokens, how) {
  accessToken = tokens.access_token;
  const me = await (await authorized("/me")).json();
  render(me.email);
  await listPasskeys();
  show(how);
}

async function listPasskeys() {
  const { passkeys } = await (await authorized("/passkeys")).json();
  $("passkey-list").replaceChildren(...passkeys.map((passkey) => {
    const item = document.createElement("li");
    item.dataset.id = passkey.id;
    const used = passkey.last_used_at ? `last used ${new Date(passkey.last_used_at).toLocaleString()}` : "never used";
    item.textContent = `${passkey.name} (added ${new Date(passkey.created_at).toLocaleString()}, ${used}) `;
    const remove = document.createElement("button");
    remove.textContent = "Delete";
    remove.addEventListener("click", async () => {
      try {
        await authorized(`/passkeys/${encodeURIComponent(passkey.id)}`, "DELETE");
        await listPasskeys();
        show(`Deleted the passkey ${passkey.name}.`);
      } catch (error) { showError(error); }
    });
    item.append(remove);
    return item;
  }));
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const response = await postJson("/login", formData(event.target));
    if (!response.ok) throw await problem(response);
    await signedIn(await response.json(), "Logged in with your password.");
  } catch (error) { showError(error); }
});

$("passkey-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const options = await (await authorized("/passkeys/register/options", "POST")).json();
    const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
    const { name } = formData(event.target);
    await authorized("/passkeys/register", "POST", { credential: credential.toJSON(), name });
    event.target.reset();
    await listPasskeys();
    show("Passkey created.");
  } catch (error) { showError(error); }
});

// Discoverable credentials: no email is asked for; the authenticator offers this site's passkeys.
$("passkey-login-button").addEventListener("click", async () => {
  try {
    const response = await postJson("/passkeys/login/options", {});
    if (!response.ok) throw await problem(response);
    const { challenge_id, ...options } = await response.json();
    const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    const signIn = await postJson("/passkeys/login", { challenge_id, credential: credential.toJSON() });
    if (!signIn.ok) throw await problem(signIn);
    await signedIn(await signIn.json(), "Signed in with a passkey.");
  } catch (error) { showError(error); }
});

$("logout-button").addEventListener("click", async () => {
  try {
    await authorized("/logout?scope=session", "POST");
  } catch (error) { showError(error); return; }
  accessToken = null;
  render(null);
  show("Logged out.");
});
