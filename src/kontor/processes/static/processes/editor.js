// The process editor: the version picker shows the chosen version at once, and a
// step that reaches the goal must end the process (the checkbox follows).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form) {
      form.submit();
      return;
    }
    if (event.target.name === "goal_reached" && event.target.checked) {
      var isEnd = event.target.form && event.target.form.querySelector("input[name=is_end]");
      if (isEnd) {
        isEnd.checked = true;
      }
    }
  });
})();
