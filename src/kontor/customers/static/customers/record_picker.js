// The organization pickers of the list filters (customers/record_list.html).
// A text box asks organization_suggest (htmx) for suggestions; choosing one puts its
// uuid into the hidden input the filter form sends, and the form reloads the list
// through its "change" trigger. Emptying the box removes the filter.
(function () {
  "use strict";

  function parts(element) {
    const box = element.closest("[data-record-picker]");
    if (!box) return null;
    return {
      box: box,
      term: box.querySelector("[data-picker-term]"),
      list: box.querySelector("[data-picker-suggestions]"),
      hidden: Array.from(box.querySelectorAll("input[type=hidden]")),
    };
  }

  function close(p) {
    p.list.replaceChildren();
    p.term.setAttribute("aria-expanded", "false");
  }

  function choose(p, uuid, name) {
    // One organization: a view from a URL with several keeps only the chosen one.
    p.hidden.slice(1).forEach(function (input) { input.remove(); });
    p.hidden[0].value = uuid;
    p.term.value = name;
    close(p);
    p.hidden[0].dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-pick]");
    const p = button && parts(button);
    if (!p) return;
    event.preventDefault();
    choose(p, button.dataset.pick, button.dataset.name);
    p.term.focus();
  });

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-picker-term]")) return;
    const p = parts(event.target);
    if (event.target.value.trim() === "" && p.hidden.some(function (i) { return i.value; })) {
      choose(p, "", "");
    }
  });

  // The typed text is no filter: its "change" must not reload the list.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-picker-term]")) event.stopPropagation();
  }, true);

  document.addEventListener("htmx:afterSwap", function (event) {
    const p = parts(event.target);
    if (p && event.target === p.list) {
      p.term.setAttribute("aria-expanded", p.list.children.length ? "true" : "false");
    }
  });

  // Keyboard: down into the suggestions, up and down between them, Escape closes.
  document.addEventListener("keydown", function (event) {
    const p = parts(event.target);
    if (!p || !(event.target === p.term || p.list.contains(event.target))) return;
    const buttons = Array.from(p.list.querySelectorAll("[data-pick]"));
    const at = buttons.indexOf(event.target);
    if (event.key === "Escape") {
      close(p);
      p.term.focus();
    } else if (event.key === "ArrowDown" && buttons.length) {
      event.preventDefault();
      buttons[Math.min(at + 1, buttons.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      (at === 0 ? p.term : buttons[at - 1]).focus();
    }
  });
})();
