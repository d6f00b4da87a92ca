// The QR code on a printed card opens this page with the code after "#": browsers never
// send that part to the server. Put it in the field, then remove it from the address bar
// and the history. Without JavaScript the person types the code printed on the card.
(function () {
  "use strict";
  var field = document.getElementById("code");
  var hash = window.location.hash.replace(/^#/, "");
  if (field && /^[0-9A-Za-z-]{8,40}$/.test(hash)) {
    field.value = hash;
  }
  if (hash && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
})();
