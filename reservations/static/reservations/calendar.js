// Admin calendar: drag over free cells of one column to book that span through the add form.
"use strict";
(function () {
  function init() {
    var grid = document.querySelector(".rsv-grid");
    if (!grid || grid.dataset.canAdd !== "1") return;
    var anchor = null, selection = [];

    function cellsOfColumn(col) {
      return Array.prototype.slice.call(grid.querySelectorAll('td[data-col="' + col + '"]'));
    }
    function clear() {
      selection.forEach(function (td) { td.classList.remove("rsv-selected"); });
      selection = [];
    }
    // The free cells between the anchor and ``td`` in the anchor's column, if they are contiguous.
    function span(td) {
      var cells = cellsOfColumn(anchor.dataset.col);
      var a = cells.indexOf(anchor), b = cells.indexOf(td);
      if (b < 0) return null;
      var lo = Math.min(a, b), hi = Math.max(a, b), picked = cells.slice(lo, hi + 1);
      for (var i = 1; i < picked.length; i++) {
        if (picked[i - 1].dataset.end !== picked[i].dataset.start) return null;  // a booking lies between
      }
      return picked;
    }
    grid.addEventListener("mousedown", function (event) {
      var td = event.target.closest("td.rsv-free");
      if (!td) return;
      event.preventDefault();
      clear();
      anchor = td;
      selection = [td];
      td.classList.add("rsv-selected");
      grid.classList.add("rsv-dragging");
    });
    grid.addEventListener("mouseover", function (event) {
      if (!anchor) return;
      var td = event.target.closest("td.rsv-free");
      if (!td || td.dataset.col !== anchor.dataset.col) return;
      var picked = span(td);
      if (!picked) return;
      clear();
      selection = picked;
      selection.forEach(function (cell) { cell.classList.add("rsv-selected"); });
    });
    document.addEventListener("mouseup", function () {
      if (!anchor) return;
      var first = selection[0], last = selection[selection.length - 1];
      anchor = null;
      grid.classList.remove("rsv-dragging");
      if (!first) return;
      var params = new URLSearchParams({
        meetingroom: first.dataset.room,
        reserve_from: first.dataset.start,
        reserve_to: last.dataset.end,
        next: window.location.pathname + window.location.search
      });
      window.location.href = grid.dataset.addUrl + "?" + params.toString();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
