// Passkeys (WebAuthn) for the sign-in and account pages: the browser's credential calls, which only a script of
// this origin can make. Without JavaScript the pages still sign in with a password and an authenticator code.
"use strict";
const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)),
                                     (c) => c.charCodeAt(0));
const text = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_")
                                                                        .replace(/=+$/, "");
const csrf = () => (document.cookie.split("; ").find((c) => c.startsWith("cg_csrf=")) || "").slice(8);
async function post(url, body) {
  const answer = await fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body || {}),
                                   headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()}});
  return {status: answer.status, body: await answer.json().catch(() => null)};
}
const descriptors = (list) => (list || []).map((c) => ({...c, id: bytes(c.id)}));

async function signInWithTotp(name, password, totp) {
  return post("/api/v1/sign-in", {name, password, totp});
}

async function addPasskey() {
  const options = (await post("/api/v1/passkeys/options")).body;
  options.challenge = bytes(options.challenge);
  options.user.id = bytes(options.user.id);
  options.excludeCredentials = descriptors(options.excludeCredentials);
  const made = await navigator.credentials.create({publicKey: options});
  return post("/api/v1/passkeys", {
    id: made.id, rawId: text(made.rawId), type: made.type, clientExtensionResults: {},
    response: {clientDataJSON: text(made.response.clientDataJSON),
               attestationObject: text(made.response.attestationObject),
               transports: made.response.getTransports ? made.response.getTransports() : []}});
}

async function passkeyAnswer() {
  const options = (await post("/api/v1/sign-in/passkey-options")).body;
  options.challenge = bytes(options.challenge);
  options.allowCredentials = descriptors(options.allowCredentials);
  const got = await navigator.credentials.get({publicKey: options});
  return {id: got.id, rawId: text(got.rawId), type: got.type, clientExtensionResults: {},
          response: {clientDataJSON: text(got.response.clientDataJSON),
                     authenticatorData: text(got.response.authenticatorData), signature: text(got.response.signature),
                     userHandle: got.response.userHandle ? text(got.response.userHandle) : null}};
}

async function signInWithPasskey(name, password) {
  return post("/api/v1/sign-in", {name, password, passkey: await passkeyAnswer()});
}

document.addEventListener("DOMContentLoaded", () => {
  if (!window.PublicKeyCredential) return;
  const use = document.getElementById("use-passkey");
  if (use) {
    use.hidden = false;
    use.addEventListener("click", async () => {
      const form = document.getElementById("sign-in");
      if (!form.reportValidity()) return;
      document.getElementById("passkey-answer").value = JSON.stringify(await passkeyAnswer());
      form.submit();
    });
  }
  const add = document.getElementById("add-passkey");
  if (add) {
    add.hidden = false;
    add.addEventListener("click", async () => {
      const added = await addPasskey();
      document.getElementById("passkey-status").textContent =
        added.status === 201 ? "Passkey added." : "The passkey was not added: " + ((added.body || {}).detail || added.status);
      if (added.status === 201) window.location.reload();
    });
  }
});
