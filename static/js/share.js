// Copy buttons for share links. The clipboard is written with the Clipboard API where the page
// may use it (a secure context, permission granted); otherwise the link's text is selected so
// that the usual copy keys take it. Either way a status region tells screen readers what
// happened. Listening on the document keeps working after htmx swaps the job panel in.
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
  }

  function announce(button, message) {
    var status = document.querySelector("[data-copy-status]");
    if (status) {
      status.textContent = "";
      // A change after a blank moment is announced even when the words repeat.
      window.setTimeout(function () { status.textContent = message; }, 50);
    }
    button.textContent = message === "Copied" ? "Copied" : "Copy link";
    window.setTimeout(function () { button.textContent = "Copy link"; }, 4000);
  }

  function selectText(field) {
    field.focus();
    field.select();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var fallback = function () {
      selectText(field);
      announce(button, "Link selected: press Ctrl+C (or ⌘C) to copy it");
    };
    if (!navigator.clipboard || !window.isSecureContext) {
      fallback();
      return;
    }
    navigator.clipboard.writeText(field.value).then(function () {
      announce(button, "Copied");
    }, fallback);
  });

  reveal(document);
  document.body.addEventListener("htmx:afterSwap", function () { reveal(document); });
})();
