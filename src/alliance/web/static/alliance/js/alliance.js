// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Forms sent once: a second click while the first request is on its way does nothing.
  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
        button.classList.add("is-sending");
        button.textContent = "Sending…";
      });
    });
  });

  // Copy buttons for links shown once.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source) { return; }
      var done = function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done);
      } else {
        source.select();
        document.execCommand("copy");
        done();
      }
    });
  });
  // Header menus: one open at a time; a click elsewhere or Escape closes them.
  var menus = document.querySelectorAll("details.nav-menu");
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (!menu.open) { return; }
      menus.forEach(function (other) { if (other !== menu) { other.open = false; } });
    });
  });
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) { if (!menu.contains(event.target)) { menu.open = false; } });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { menus.forEach(function (menu) { menu.open = false; }); }
  });

  // The case page on a phone: its sections start folded (the page is long); the one an
  // in-page link points to opens. Without this file every section is simply open.
  var folds = document.querySelectorAll(".case-part > details.fold");
  if (folds.length) {
    var openTarget = function () {
      var target = location.hash && document.getElementById(location.hash.slice(1));
      var part = target && target.closest(".case-part");
      var fold = part && part.querySelector("details.fold");
      if (fold) { fold.open = true; }
      var inner = target && target.closest("details");
      if (inner) { inner.open = true; }
    };
    if (window.matchMedia("(max-width: 40rem)").matches) {
      folds.forEach(function (fold) { fold.open = false; });
    }
    openTarget();
    window.addEventListener("hashchange", openTarget);
  }

  document.querySelectorAll(".copy-source").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
