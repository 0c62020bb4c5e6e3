// Agenda: keyboard navigation in the month grid (W3C date-picker pattern), progressive
// enhancement only — every day is a link and every action a plain form.
(function () {
  "use strict";
  var grid = document.querySelector("table.agenda");
  if (!grid) { return; }
  var links = Array.prototype.slice.call(grid.querySelectorAll("a.day"));
  if (!links.length) { return; }
  var current = grid.querySelector("a.day[aria-current='date']") || grid.querySelector("td.today a.day") ||
    grid.querySelector("td:not(.other-month) a.day") || links[0];
  links.forEach(function (link) { link.tabIndex = link === current ? 0 : -1; });
  function move(index) {
    if (index < 0 || index >= links.length) { return; }
    current.tabIndex = -1;
    current = links[index];
    current.tabIndex = 0;
    current.focus();
  }
  grid.addEventListener("keydown", function (event) {
    var index = links.indexOf(document.activeElement);
    if (index < 0) { return; }
    var column = index % 7;
    var target = null;
    switch (event.key) {
      case "ArrowLeft": target = index - 1; break;
      case "ArrowRight": target = index + 1; break;
      case "ArrowUp": target = index - 7; break;
      case "ArrowDown": target = index + 7; break;
      case "Home": target = index - column; break;
      case "End": target = index - column + 6; break;
      case "PageUp": case "PageDown":
        var nav = document.getElementById(event.key === "PageUp" ? "mois-precedent" : "mois-suivant");
        if (nav) { event.preventDefault(); window.location.href = nav.href; }
        return;
      case " ": event.preventDefault(); document.activeElement.click(); return;
      default: return;
    }
    event.preventDefault();
    move(target);
  });
  // After an action, focus goes back to the day (the status message is announced); when a day
  // was just chosen, focus goes to its actions.
  var flashed = document.querySelector(".flashes .flash");
  var selected = grid.querySelector("a.day[aria-current='date']");
  var panel = document.getElementById("titre-jour");
  if (selected && panel) {
    // The chosen day's actions are already on the page: go to them instead of reloading.
    selected.addEventListener("click", function (event) { event.preventDefault(); panel.focus(); });
  }
  var target = document.querySelector(".error-summary") ? null : (flashed && selected) ? selected : panel;
  if (target) {
    // After the browser has scrolled to the #jour fragment (which resets the focus).
    var place = function () { setTimeout(function () { target.focus(); }, 0); };
    if (document.readyState === "complete") { place(); } else { window.addEventListener("load", place); }
  }
})();
