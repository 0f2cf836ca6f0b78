// Gatehouse hosted pages: passkeys (WebAuthn). A form with data-passkey
// ("get" to sign in, "create" to enrol) stays hidden unless the browser
// has WebAuthn. On submit the script fetches the options from the form's
// data-options URL (a POST with that URL's CSRF token), asks the
// authenticator, adds the form's fields (CSRF token, client, return_to
// from its data- attributes, and the PublicKeyCredential as JSON) and
// submits it. A form with data-request-options (the second-factor step)
// carries its options itself and its fields in the markup. The server
// checks everything.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) { return; }

  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (c) { return { type: c.type, id: fromB64(c.id), transports: c.transports }; });
  }
  function creationOptions(o) {
    o.challenge = fromB64(o.challenge);
    o.user.id = fromB64(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return { publicKey: o };
  }
  function requestOptions(o) {
    o.challenge = fromB64(o.challenge);
    o.allowCredentials = descriptors(o.allowCredentials);
    return { publicKey: o };
  }
  function credentialJSON(c) {
    var r = c.response, resp = { clientDataJSON: toB64(r.clientDataJSON) };
    if (r.attestationObject) {
      resp.attestationObject = toB64(r.attestationObject);
      resp.transports = r.getTransports ? r.getTransports() : [];
    } else {
      resp.authenticatorData = toB64(r.authenticatorData);
      resp.signature = toB64(r.signature);
      if (r.userHandle) { resp.userHandle = toB64(r.userHandle); }
    }
    return JSON.stringify({ id: c.id, rawId: toB64(c.rawId), type: c.type, response: resp,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {} });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var create = form.getAttribute("data-passkey") === "create";
    form.hidden = false;
    function add(name, value) {
      if (!value) { return; }
      var i = document.createElement("input");
      i.type = "hidden"; i.name = name; i.value = value;
      form.appendChild(i);
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var inline = form.getAttribute("data-request-options"), options;
      if (inline) { // the second-factor step: the challenge's options
        options = Promise.resolve(inline).then(JSON.parse);
      } else {
        var body = new URLSearchParams();
        body.set("csrf", form.getAttribute("data-options-csrf"));
        body.set("client_id", form.getAttribute("data-client-id") || "");
        options = fetch(form.getAttribute("data-options"), { method: "POST", credentials: "same-origin", body: body })
          .then(function (r) { if (!r.ok) { throw new Error("options " + r.status); } return r.json(); });
      }
      options
        .then(function (o) {
          return create ? navigator.credentials.create(creationOptions(o)) : navigator.credentials.get(requestOptions(o));
        })
        .then(function (c) {
          add("csrf", form.getAttribute("data-csrf"));
          add("client_id", form.getAttribute("data-client-id"));
          add("return_to", form.getAttribute("data-return-to"));
          add("credential", credentialJSON(c));
          form.submit(); // no submit event: not handled again
        })
        .catch(function (e) {
          form.setAttribute("data-passkey-error", String(e && (e.name + ": " + e.message) || e));
        });
    });
  });
})();
