// Progressive enhancement for the upload form: drag and drop with a preview, a file the server
// would refuse for its size or kind refused at once, one-click body shape suggestions, "surprise
// me" greying out the seed, and the cost and image sizes kept current as choices change. The form works without it (the server shows the cost it computed).
(function () {
  "use strict";
  var form = document.querySelector(".upload-form");
  if (!form) return;

  var zone = form.querySelector("[data-dropzone]");
  var input = zone.querySelector("input[type=file]");
  var preview = zone.querySelector("[data-preview]");
  var hint = zone.querySelector("[data-hint]");
  var previewUrl = null;

  // The intake's own limit and words, rendered by the server as data- attributes: a file the
  // server would refuse for its size or kind is refused here at once, before a byte is sent.
  // The server still checks everything (it reads the bytes; the browser only knows the name).
  var fileError = form.querySelector("[data-file-error]");
  var helpId = input.id + "_helptext";
  var refusals = JSON.parse(input.getAttribute("data-refusals") || "{}");
  var accepted = (input.getAttribute("accept") || "").split(",");

  function megabytes(size) {
    return (size / 1048576).toFixed(1).replace(/\.0$/, "");
  }

  function refusalOf(file) {
    var type = (file.type || "").toLowerCase();
    if (file.size === 0) return input.getAttribute("data-empty");
    if (file.size > Number(input.getAttribute("data-max-bytes"))) {
      return input.getAttribute("data-too-large").replace("{size}", megabytes(file.size));
    }
    if (!type || type === "application/octet-stream") return null;  // unknown here: ask the server
    if (accepted.indexOf(type) !== -1) return null;
    if (refusals[type]) return refusals[type];
    var family = type.split("/")[0] + "/";
    if (refusals[family]) return refusals[family];
    return /^image\//.test(type) ? null : input.getAttribute("data-unreadable");
  }

  function showFileError(message) {
    fileError.textContent = message || "";
    fileError.hidden = !message;
    input.setAttribute("aria-describedby", message ? helpId + " " + fileError.id : helpId);
    input.closest(".field").classList.toggle("has-error", Boolean(message));
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function choose(file) {
    var refusal = file ? refusalOf(file) : null;
    if (refusal) {
      input.value = "";  // nothing refused stays chosen, so nothing refused is sent
      showPreview(null);
      showFileError(refusal);
      return;
    }
    if (file) showFileError(null);
    showPreview(file);
  }

  function showPreview(file) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    if (!file) {
      preview.hidden = true;
      hint.textContent = "Drag a photo here, or choose a file";
      return;
    }
    hint.textContent = file.name + " (" + (file.size / 1048576).toFixed(1) + " MB) · choose another";
    // Browsers cannot show HEIC: say so instead of a broken image; the server converts it.
    if (/image\/(jpeg|png|webp|gif)/.test(file.type)) {
      previewUrl = URL.createObjectURL(file);
      preview.src = previewUrl;
      preview.hidden = false;
    } else {
      preview.hidden = true;
    }
  }

  input.addEventListener("change", function () { choose(input.files[0]); });
  // A file chosen before this script ran (a fast hand, or the browser restoring the form on
  // "back") gets its preview too.
  if (input.files.length) choose(input.files[0]);
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      choose(input.files[0]);
    }
  });

  var prompt = form.querySelector("[name=prompt]");
  form.querySelectorAll("[data-suggestion]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      prompt.value = chip.getAttribute("data-suggestion");
      prompt.focus();
    });
  });

  var seed = form.querySelector("[name=seed]");
  var surprise = form.querySelector("[name=surprise_me]");
  function syncSeed() { seed.disabled = surprise.checked; }
  surprise.addEventListener("change", syncSeed);
  syncSeed();

  // The server's table (avatars.options.price_table): credits for every combination offered,
  // and each resolution's size at each aspect ratio. No price is known here but from it.
  var cost = form.querySelector("[data-price-table]");
  if (cost) {
    var table = JSON.parse(cost.getAttribute("data-price-table"));
    var checked = function (name) {
      var input = form.querySelector("[name=" + name + "]:checked");
      return input ? input.value : null;
    };
    var update = function () {
      var credits = table.credits[
        [checked("generation_mode"), checked("resolution"), checked("num_images")].join("|")
      ];
      if (credits !== undefined) {
        cost.textContent = "This uses " + credits + (credits === 1 ? " credit" : " credits");
      }
      var sizes = table.sizes[checked("aspect_ratio")];
      if (sizes) {
        form.querySelectorAll("[data-size]").forEach(function (label) {
          var size = sizes[label.getAttribute("data-size")];
          if (size) label.textContent = size;
        });
      }
    };
    form.addEventListener("change", update);
    update();
  }

  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Uploading…";
  });
})();
