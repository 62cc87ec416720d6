// Kontor's small behaviours. No inline handlers: the CSP forbids them.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle=nav]");
    if (toggle) {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // Forms that destroy something ask first.
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      return;
    }
    // A double click sends a form once. GET forms (filters) may be sent again, and so
    // may a form through another of its buttons: a download (the list's "Export CSV")
    // leaves the page as it is, and "Export Excel" right after it must not do nothing.
    if ((form.method || "get").toLowerCase() === "post") {
      var submitter = event.submitter;
      var key = submitter ? (submitter.name || "") + "=" + (submitter.value || "") : "=";
      if (form.dataset.submitted === key) {
        event.preventDefault();
        return;
      }
      form.dataset.submitted = key;
      window.setTimeout(function () {
        if (form.dataset.submitted === key) { delete form.dataset.submitted; }
      }, 5000);
    }
  });
})();

// The global search box: its htmx dropdown (#global-search-results) is reachable by
// keyboard (↓/↑ move between the hits, Escape closes) and closes on a click elsewhere.
(function () {
  "use strict";
  var INPUT = "global-search";
  var PANEL = "global-search-results";

  function panel() { return document.getElementById(PANEL); }
  function input() { return document.getElementById(INPUT); }
  function links() { var p = panel(); return p ? Array.prototype.slice.call(p.querySelectorAll("a")) : []; }
  function setOpen(open) {
    var p = panel(), i = input();
    if (!p || !i) { return; }
    p.classList.toggle("open", open);
    i.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function close() {
    var p = panel();
    if (p) { p.innerHTML = ""; }
    setOpen(false);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === PANEL) {
      setOpen(event.target.textContent.trim() !== "");
    }
  });
  document.addEventListener("keydown", function (event) {
    var i = input();
    if (!i) { return; }
    var inBox = event.target === i;
    var inPanel = panel() && panel().contains(event.target);
    if (!inBox && !inPanel) { return; }
    var all = links();
    var at = all.indexOf(event.target);
    if (event.key === "Escape") {
      close();
      i.focus();
      event.preventDefault();
    } else if (event.key === "ArrowDown" && all.length) {
      all[inBox ? 0 : Math.min(at + 1, all.length - 1)].focus();
      event.preventDefault();
    } else if (event.key === "ArrowUp" && inPanel) {
      if (at <= 0) { i.focus(); } else { all[at - 1].focus(); }
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var form = event.target.closest && event.target.closest(".global-search");
    if (!form) { close(); }
  });
})();
