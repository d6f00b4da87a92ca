// Proof of work for the report form (only loaded when TIPLAB_REPORT_POW_BITS > 0): find a
// counter such that SHA-256(challenge ":" counter) starts with that many zero bits, put it in
// the form, then send. Without JavaScript the server refuses the form and says why.
(function () {
  "use strict";
  var form = document.querySelector("form[data-pow]");
  if (!form || !window.crypto || !window.crypto.subtle) { return; }
  var bits = parseInt(form.getAttribute("data-pow"), 10) || 0;
  var enc = new TextEncoder();
  function zeros(buf) {
    var bytes = new Uint8Array(buf), n = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { n += 8; continue; }
      for (var b = 7; b >= 0 && !(bytes[i] & (1 << b)); b--) { n++; }
      break;
    }
    return n;
  }
  async function solve(challenge) {
    for (var counter = 0; ; counter++) {
      var digest = await crypto.subtle.digest("SHA-256", enc.encode(challenge + ":" + counter));
      if (zeros(digest) >= bits) { return String(counter); }
    }
  }
  var done = false;
  form.addEventListener("submit", function (event) {
    if (done) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    solve(form.elements.pow_challenge.value).then(function (counter) {
      form.elements.pow_counter.value = counter;
      done = true;
      if (button) { button.disabled = false; }
      form.submit();
    });
  });
})();
