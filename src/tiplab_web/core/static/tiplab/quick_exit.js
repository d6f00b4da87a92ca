// Quick exit on the anonymous pages: the button (a plain link, which works without this
// script) replaces this page in the history, so "Back" does not return to it; pressing
// Escape twice does the same.
(function () {
  "use strict";
  var target = document.body.getAttribute("data-exit") || "https://www.wikipedia.org/";
  function leave(event) {
    if (event) { event.preventDefault(); }
    document.body.textContent = "";
    window.location.replace(target);
  }
  var buttons = document.querySelectorAll(".quick-exit");
  for (var i = 0; i < buttons.length; i++) { buttons[i].addEventListener("click", leave); }
  var last = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    if (now - last < 1500) { leave(event); }
    last = now;
  });
})();
