// Incoming e-mail pages: ask before a destructive button submits its form
// (the CSP forbids inline handlers, so buttons carry data-confirm instead).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
