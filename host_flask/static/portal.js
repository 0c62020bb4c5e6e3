// Portail Famille — progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  // Warn two minutes before the idle timeout and let the user extend the session (RGAA 13.1).
  var idle = parseInt(document.body.getAttribute("data-session-idle") || "0", 10);
  var warning = document.getElementById("session-warning");
  if (idle > 0 && warning) {
    var timer;
    var arm = function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        warning.hidden = false;
        var button = warning.querySelector("button");
        if (button) { button.focus(); }
      }, Math.max(idle - 120, 5) * 1000);
    };
    var form = warning.querySelector("form");
    if (form && window.fetch) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        fetch(form.action, { method: "POST", body: new FormData(form), headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function () { warning.hidden = true; arm(); });
      });
    }
    arm();
  }
  // Browsers without ::details-content cannot show a closed <details>' content: on a wide
  // screen, where the "Menu" button is hidden, open the menu (docs/accessibility.md).
  var menu = document.querySelector(".site-menu");
  var supported = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
  if (menu && !supported && window.matchMedia && window.matchMedia("(min-width: 48rem)").matches) {
    menu.open = true;
  }
  // Put focus on an error summary so screen readers announce it.
  var summary = document.querySelector(".error-summary[tabindex]");
  if (summary) { summary.focus(); }
})();
