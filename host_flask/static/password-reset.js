// Portail Famille — the password reset page (docs/security.md point 37).
// The e-mailed link carries its code after "#": browsers never send that part to the server, so
// no access log holds it. Put the code into the form (which posts it) and out of the address bar.
// Without JavaScript the person pastes the code, printed in the e-mail too, into the same field.
(function () {
  "use strict";
  var match = /(?:^#|&)code=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  var input = document.getElementById("f-token");
  if (!match || !input) { return; }
  input.value = match[1];
  var wrapper = document.getElementById("reset-code");
  if (wrapper) { wrapper.hidden = true; }
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  var password = document.getElementById("f-password");
  if (password) { password.focus(); }
})();
