// Panels that htmx refreshes in place (a job's progress, a try-on) are replaced every second. A
// screen reader does not read a region that replaces another, and reading a whole panel every
// second would drown everything else: so a panel names its state in data-announce, and this
// script says that state in the page's one polite live region (base.html) when it changes.
(function () {
  "use strict";
  var region = document.getElementById("announcer");
  if (!region) return;

  function state() {
    var node = document.querySelector("[data-announce]");
    return node ? node.getAttribute("data-announce") : null;
  }

  var last = state(); // the state on arrival is on the page already: nothing to say
  document.body.addEventListener("htmx:afterSettle", function () {
    var now = state();
    if (now && now !== last) region.textContent = now;
    last = now;
  });
})();
