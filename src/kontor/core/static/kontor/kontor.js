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
    // A double click sends a form once. GET forms (filters) may be sent again.
    if ((form.method || "get").toLowerCase() === "post") {
      if (form.dataset.submitted === "true") {
        event.preventDefault();
        return;
      }
      form.dataset.submitted = "true";
      window.setTimeout(function () { form.dataset.submitted = "false"; }, 5000);
    }
  });
})();
