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
document.addEventListener("htmx:afterSettle", function (event) {
  // A dialog loaded by htmx ("Gérer le rattachement") opens as a modal; without JS it is a page.
  // Opened once settled: htmx attaches the behaviours of new content while settling, so a choice
  // made in the dialog before that would be lost. Opened once: closing it is final.
  var dialog = event.target.querySelector && event.target.querySelector("dialog[data-autoshow]:not([open])");
  if (dialog && dialog.showModal) {
    dialog.removeAttribute("data-autoshow");
    dialog.showModal();
  }
});
document.addEventListener("change", function (event) {
  // The reminder dialog says how many messages will go as boxes are (un)checked.
  var form = event.target.closest && event.target.closest("form[data-recipient-count]");
  if (!form) return;
  var target = document.querySelector(form.getAttribute("data-recipient-count"));
  var count = form.querySelectorAll("input[type=checkbox]:checked").length;
  if (target) target.textContent = count === 1 ? target.dataset.one : target.dataset.many.replace("#", count);
});
