// Merge-field picker and note insertion on the compose and template pages: a button
// with data-insert puts its text where the cursor was in the subject or the text
// (the last one focused; the text by default). After an insert, or after htmx filled
// the fields from a template, an "input" event lets the live preview catch up.
(function () {
  "use strict";
  var lastField = null;

  function targets() {
    return document.querySelectorAll("[data-merge-target]");
  }

  function defaultTarget() {
    var all = targets();
    return all.length ? all[all.length - 1] : null;
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-merge-target]")) {
      lastField = event.target;
    }
  });

  function insert(field, text) {
    var start = field.selectionStart != null ? field.selectionStart : field.value.length;
    var end = field.selectionEnd != null ? field.selectionEnd : field.value.length;
    if (field.tagName === "INPUT") {
      text = text.replace(/\s+/g, " ");
    }
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    var caret = start + text.length;
    field.focus();
    field.setSelectionRange(caret, caret);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert]");
    if (!button) {
      return;
    }
    event.preventDefault();
    var field = lastField && document.body.contains(lastField) ? lastField : defaultTarget();
    if (field) {
      insert(field, button.getAttribute("data-insert"));
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = document.getElementById("compose-fields");
    if (swapped && event.target && (event.target === swapped || event.target.id === "compose-fields")) {
      lastField = null;
      var form = document.getElementById("compose-form");
      if (form) {
        form.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }
  });
})();
