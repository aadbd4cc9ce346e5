// Small glue for htmx. Everything works without it: forms post and redirect as usual.
document.addEventListener("htmx:afterSwap", function (event) {
  // After a form re-renders with errors, move focus to the first invalid field.
  var invalid = event.detail.target.querySelector && event.detail.target.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
});
document.addEventListener("htmx:sendError", function () {
  var area = document.getElementById("flash-area");
  if (area) area.innerHTML = '<div class="flash flash-error" role="alert">Connexion au serveur impossible. Vérifiez votre réseau et réessayez.</div>';
});
