// The calendar's person and team choosers: choosing one shows that calendar at once
// (the form's "Show" button stays for keyboards and without JavaScript). Choosing a
// person clears the team and vice versa, so the two never contradict each other.
document.addEventListener("change", (event) => {
  const select = event.target;
  const form = select.closest && select.closest("form[data-autosubmit]");
  if (!form || select.tagName !== "SELECT") return;
  const other = form.querySelector(select.name === "user" ? "select[name=team]" : "select[name=user]");
  if (other && select.value) other.value = "";
  form.requestSubmit();
});
