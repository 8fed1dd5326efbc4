// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
