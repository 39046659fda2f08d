/* The portal's progressive enhancement: every page works without it. */
(function () {
  "use strict";
  // iOS (and WeChat's browser) may restore a page from the back/forward cache after sign-out or
  // a change made elsewhere: show the server's current page instead.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });
  // After htmx swaps in a new page, move focus to its heading so screen readers announce it
  // (htmx leaves focus on the link that was activated, now gone).
  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    if (!detail.boosted) return;
    var heading = document.querySelector("main h1, .bar h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  });
  // Forms and buttons that ask before doing something that cannot be undone.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
