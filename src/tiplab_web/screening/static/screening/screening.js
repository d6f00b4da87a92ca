// After a review action replaces a card (htmx), keep the keyboard where it was: focus the
// new card (same id as the old one) so the next Tab reaches its buttons, not the page top.
document.addEventListener("htmx:afterSettle", function (event) {
  var old = event.detail && event.detail.target;
  if (!old || !old.id || old.id.indexOf("item-") !== 0) {
    return;
  }
  var card = document.getElementById(old.id);
  if (card) {
    card.focus();
  }
});
