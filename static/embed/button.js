/* Avatar Studio's "See it on me" button, for any registered shop.
 *
 *   <script src="https://<avatar studio>/static/embed/button.js" data-key="pk_..." async></script>
 *   <button data-avatar-studio-tryon data-garment-image="https://..." data-garment-name="..."
 *           data-garment-category="tops">See it on me</button>
 *
 * A click opens Avatar Studio's own window (a popup, first-party there: no third-party cookies).
 * When the try-on is ready the window posts {type: "avatar-studio:done"} to this page's origin,
 * and this script fires an "avatar-studio:done" event on the button that was clicked.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var base = new URL(script.src).origin;
  var key = script.getAttribute("data-key") || "";
  var lastButton = null;

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-avatar-studio-tryon]");
    if (!button) { return; }
    event.preventDefault();
    var url = new URL("/embed/try/", base);
    url.searchParams.set("key", key);
    url.searchParams.set("origin", window.location.origin);
    url.searchParams.set("garment_image", button.getAttribute("data-garment-image") || "");
    url.searchParams.set("name", button.getAttribute("data-garment-name") || "");
    url.searchParams.set("category", button.getAttribute("data-garment-category") || "");
    lastButton = button;
    window.open(url.toString(), "avatar-studio-tryon", "popup,width=520,height=780");
  });

  window.addEventListener("message", function (event) {
    // Only our window speaks for Avatar Studio; anything else is ignored.
    if (event.origin !== base || !event.data || event.data.type !== "avatar-studio:done") { return; }
    var target = lastButton || document;
    target.dispatchEvent(new CustomEvent("avatar-studio:done", { bubbles: true }));
  });
})();
