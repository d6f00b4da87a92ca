// The coding form of a note page: a mouse selection (or a sentence chosen with "Code
// sentence") fills the form's start/end, as offsets in code points like the server's.
(function () {
  "use strict";

  function codePoints(s) { return Array.from(s).length; }

  function offsetOf(node, offset) {
    var el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    var seg = el && el.closest ? el.closest(".ev-seg") : null;
    if (!seg) { return null; }
    var start = parseInt(seg.dataset.start, 10);
    if (node.nodeType !== Node.TEXT_NODE) {
      return offset === 0 ? start : parseInt(seg.dataset.end, 10);
    }
    return start + codePoints(node.textContent.slice(0, offset));
  }

  function form() { return document.getElementById("ev-code-form"); }

  function choose(start, end, text) {
    var f = form();
    if (!f || end <= start) { return; }
    f.querySelector("[name=start]").value = start;
    f.querySelector("[name=end]").value = end;
    var shown = document.getElementById("ev-selected");
    if (shown) {
      var t = text.length > 160 ? text.slice(0, 157) + "…" : text;
      shown.textContent = "“" + t + "” (" + start + "–" + end + ")";
    }
  }

  document.addEventListener("mouseup", function (ev) {
    if (!ev.target.closest || !ev.target.closest("#ev-text-body")) { return; }
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) { return; }
    var r = sel.getRangeAt(0);
    var a = offsetOf(r.startContainer, r.startOffset);
    var b = offsetOf(r.endContainer, r.endOffset);
    if (a === null || b === null) { return; }
    choose(Math.min(a, b), Math.max(a, b), sel.toString());
  });

  document.addEventListener("click", function (ev) {
    var pick = ev.target.closest ? ev.target.closest("a.ev-pick") : null;
    if (!pick || !form()) { return; }
    ev.preventDefault();
    var unit = pick.closest(".ev-unit");
    var text = unit ? unit.querySelector(".ev-unit__text").textContent : "";
    choose(parseInt(pick.dataset.start, 10), parseInt(pick.dataset.end, 10), text);
    var filter = document.getElementById("ev-code-filter");
    if (filter) { filter.focus(); }
  });

  document.addEventListener("input", function (ev) {
    if (ev.target.id !== "ev-code-filter") { return; }
    var q = ev.target.value.trim().toLowerCase();
    var select = form() ? form().querySelector("select[name=code]") : null;
    if (!select) { return; }
    var first = null;
    Array.prototype.forEach.call(select.options, function (o) {
      var hit = !q || o.textContent.toLowerCase().indexOf(q) !== -1;
      o.hidden = !hit;
      if (hit && first === null) { first = o; }
    });
    if (first && select.selectedOptions[0] && select.selectedOptions[0].hidden) {
      first.selected = true;
    }
  });
})();
