// tiplab shell behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  // On narrow screens start with the menu folded; it stays open without JavaScript.
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".main-nav__toggle");
    if (toggle && window.matchMedia("(max-width: 48rem)").matches) {
      toggle.open = false;
    }
    // Forms marked data-confirm ask before submitting (destructive actions).
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  });
})();
