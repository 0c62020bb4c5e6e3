// Marks a conversation read once a person really sees it (docs/inbox.md, "Reading"): the page
// posts its own "Marquer comme lu" form. A prefetched page, or one prerendered and never shown,
// changes nothing; without JavaScript the person presses the button.
(function () {
  "use strict";
  var form = document.querySelector("form[data-read-when-shown]");
  if (!form) {
    return;
  }
  var sent = false;

  function send() {
    if (sent) {
      return;
    }
    sent = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      keepalive: true,
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.ok) {
        form.hidden = true;
        var unread = document.getElementById("mark-unread");
        if (unread) {
          unread.hidden = false;
        }
      } else {
        sent = false;
      }
    }, function () {
      sent = false;
    });
  }

  function whenShown() {
    if (document.prerendering) {
      document.addEventListener("prerenderingchange", whenShown, { once: true });
    } else if (document.visibilityState !== "visible") {
      document.addEventListener("visibilitychange", whenShown, { once: true });
    } else {
      send();
    }
  }

  whenShown();
}());
