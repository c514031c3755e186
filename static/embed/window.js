/* The button's window: once the try-on is ready, tell the shop's page, and nothing more.
 * The target origin is the one the shop registered (the server puts it on the page only then),
 * never "*": if the opener has since gone elsewhere, the browser drops the message. */
(function () {
  "use strict";
  var sent = false;

  function tellOpener() {
    var done = document.getElementById("embed-done");
    if (sent || !done || !window.opener) { return; }
    sent = true;
    window.opener.postMessage({ type: "avatar-studio:done" }, done.getAttribute("data-origin"));
  }

  document.addEventListener("DOMContentLoaded", tellOpener);
  document.body.addEventListener("htmx:afterSettle", tellOpener);
  tellOpener();
})();
