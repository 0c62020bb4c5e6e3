// Agenda: keyboard navigation in the month grid (W3C date-picker pattern), progressive
// enhancement only — every day is a link and every action a plain form. Arrows cross into the
// previous or next month, PageUp/PageDown change month; after a change the focus is back on the
// grid (the new page's day named by the #j-YYYY-MM-DD fragment).
(function () {
  "use strict";
  var grid = document.querySelector("table.agenda");
  if (!grid) { return; }
  var links = Array.prototype.slice.call(grid.querySelectorAll("a.day"));
  if (!links.length) { return; }
  // The keys are promised only where they work: with this script.
  var keysHelp = document.getElementById("aide-clavier");
  if (keysHelp) {
    keysHelp.hidden = false;
    grid.setAttribute("aria-describedby", "aide-grille aide-clavier");
  }
  function visible(link) { return link.offsetParent !== null; }
  function iso(date) { return date.toISOString().slice(0, 10); }
  function parse(value) {
    var parts = value.split("-");
    return new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2]));
  }
  function addDays(value, days) { var d = parse(value); d.setUTCDate(d.getUTCDate() + days); return iso(d); }
  function sameDayInMonth(value, step) {
    var d = parse(value);
    var first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + step, 1));
    var last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
    first.setUTCDate(Math.min(d.getUTCDate(), last));
    return iso(first);
  }
  function goToMonth(step, day) {
    var nav = document.getElementById(step < 0 ? "mois-precedent" : "mois-suivant");
    if (nav) { window.location.href = nav.href.split("#")[0] + "#j-" + day; }
  }
  var fromFragment = window.location.hash.indexOf("#j-") === 0 ? document.getElementById(window.location.hash.slice(1)) : null;
  var current = (fromFragment && links.indexOf(fromFragment) >= 0 && fromFragment) ||
    grid.querySelector("a.day[aria-current='date']") || grid.querySelector("td.today a.day") ||
    grid.querySelector("td:not(.other-month):not(.closed) a.day") || links[0];
  if (!visible(current)) {  // a closed day, not listed on a phone: the next listed day
    var start = links.indexOf(current);
    current = links.slice(start).concat(links.slice(0, start).reverse()).filter(visible)[0] || current;
  }
  links.forEach(function (link) { link.tabIndex = link === current ? 0 : -1; });
  var moved = false;  // the person has moved in the grid: the focus is theirs from then on
  function move(index, step) {
    while (index >= 0 && index < links.length && !visible(links[index])) { index += step; }
    if (index < 0 || index >= links.length) { return false; }
    moved = true;
    current.tabIndex = -1;
    current = links[index];
    current.tabIndex = 0;
    current.focus();
    return true;
  }
  grid.addEventListener("keydown", function (event) {
    var index = links.indexOf(document.activeElement);
    if (index < 0) { return; }
    var day = links[index].dataset.day;
    var listed = window.getComputedStyle(grid).display === "block";  // a phone's list of days
    var column = index % 7;
    var delta = null;
    switch (event.key) {
      case "ArrowLeft": delta = -1; break;
      case "ArrowRight": delta = 1; break;
      case "ArrowUp": delta = listed ? -1 : -7; break;
      case "ArrowDown": delta = listed ? 1 : 7; break;
      case "Home": event.preventDefault(); move(index - column, 1); return;
      case "End": event.preventDefault(); move(index - column + 6, -1); return;
      case "PageUp": case "PageDown":
        event.preventDefault();
        goToMonth(event.key === "PageUp" ? -1 : 1, sameDayInMonth(day, event.key === "PageUp" ? -1 : 1));
        return;
      case " ": event.preventDefault(); document.activeElement.click(); return;
      default: return;
    }
    event.preventDefault();
    if (!move(index + delta, delta < 0 ? -1 : 1)) {
      goToMonth(delta < 0 ? -1 : 1, addDays(day, delta));  // beyond the grid: the next month
    }
  });
  // After an action, focus goes back to the day (the status message is announced); when a day
  // was just chosen, focus goes to its actions; after a month change, to the day of the grid.
  var flashed = document.querySelector(".flashes .flash");
  var selected = grid.querySelector("a.day[aria-current='date']");
  var panel = document.getElementById("titre-jour");
  if (selected && panel) {
    // The chosen day's actions are already on the page: go to them instead of reloading.
    selected.addEventListener("click", function (event) { event.preventDefault(); panel.focus(); });
  }
  var target = document.querySelector(".error-summary") ? null :
    fromFragment ? current : (flashed && selected) ? selected : panel;
  if (target) {
    // After the browser has scrolled to the fragment (which resets the focus).
    // A key pressed before the page had finished loading keeps the day it moved to.
    var place = function () { setTimeout(function () { if (!moved) { target.focus(); } }, 0); };
    if (document.readyState === "complete") { place(); } else { window.addEventListener("load", place); }
  }
})();
