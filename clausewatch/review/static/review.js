// clausewatch review: keyboard shortcuts only; every page works without this file.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("DOMContentLoaded", function () {
    var table = document.querySelector("table[data-keynav]");
    var rows = table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]")) : [];
    var current = -1;
    function select(i) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, j) { r.classList.toggle("kb-active", j === current); });
      var link = rows[current].querySelector("a.row-link");
      if (link) link.focus();
    }
    var edit = document.getElementById("edit-form");
    document.addEventListener("keydown", function (ev) {
      if ((ev.ctrlKey || ev.metaKey) && (ev.key === "s" || ev.key === "S") && edit) {
        ev.preventDefault();
        edit.requestSubmit ? edit.requestSubmit() : edit.submit();
        return;
      }
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) return;
      if (ev.key === "j") { select(current + 1); ev.preventDefault(); }
      else if (ev.key === "k") { select(current - 1); ev.preventDefault(); }
      else if (ev.key === "/") {
        var first = document.getElementById("filter-first");
        if (first) { first.focus(); ev.preventDefault(); }
      }
    });
    var problem = document.getElementById("problem");
    var firstError = document.querySelector("[aria-invalid='true']");
    if (firstError) firstError.focus();
    else if (problem) problem.scrollIntoView({ block: "center" });
  });
})();
