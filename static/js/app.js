// Small glue for htmx. Everything works without it: forms post and redirect as usual.
document.addEventListener("htmx:afterSettle", function () {
  // After a form comes back with errors, move focus to the first invalid field.
  var invalid = document.querySelector("form [aria-invalid=true]");
  if (invalid && document.activeElement !== invalid) invalid.focus();
});
document.addEventListener("htmx:sendError", function () {
  var area = document.getElementById("flash-area");
  if (area) area.innerHTML = '<div class="flash flash-error" role="alert">Connexion au serveur impossible. Vérifiez votre réseau et réessayez.</div>';
});
document.addEventListener("htmx:afterSwap", function (event) {
  // A dialog loaded by htmx ("Gérer le rattachement") opens as a modal; without JS it is a page.
  var dialog = event.detail.target.querySelector("dialog[data-autoshow]:not([open])");
  if (dialog && dialog.showModal) dialog.showModal();
});
