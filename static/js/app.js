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
document.addEventListener("change", function (event) {
  // A file over the upload limit is refused before it is sent ("10 Mo maximum"); choosing another
  // file clears the message, and the old server-side errors of that field with it.
  var input = event.target;
  if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
  var field = input.closest(".field");
  var old = field && field.querySelectorAll(".field-error");
  if (old) old.forEach(function (node) { node.remove(); });
  if (field) field.classList.remove("has-error");
  input.removeAttribute("aria-invalid");
  input.setCustomValidity("");
  var file = input.files && input.files[0];
  if (!file || file.size <= Number(input.dataset.maxBytes)) return;
  var size = (file.size / 1048576).toFixed(1).replace(".", ",");
  var message = input.dataset.tooLarge.replace("{size}", size);
  var error = document.createElement("p");
  error.className = "field-error";
  error.id = input.id + "-size-error";
  error.textContent = message;
  input.insertAdjacentElement("afterend", error);
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", error.id);
  input.setCustomValidity(message);
  if (field) field.classList.add("has-error");
});
document.addEventListener("submit", function (event) {
  // Captured before htmx sees the submit: a form with a file over the limit is not sent at all.
  var tooLarge = event.target.querySelector && event.target.querySelector("input[type=file][data-max-bytes]:invalid");
  if (!tooLarge) return;
  event.preventDefault();
  event.stopPropagation();
  tooLarge.focus();
}, true);
