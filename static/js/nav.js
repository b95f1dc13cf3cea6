// The top navigation's menu on narrow screens: the button opens and closes it (aria-expanded says
// which), Esc closes it and gives the focus back to the button. No framework; markup is server-rendered.
(function () {
  "use strict";
  var button = document.querySelector(".menu-toggle");
  var bar = button && button.closest(".topbar");
  if (!bar) return;

  function setOpen(open) {
    bar.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bar.classList.contains("menu-open")) {
      setOpen(false);
      button.focus();
    }
  });
  // A click elsewhere closes it, as a menu does.
  document.addEventListener("click", function (event) {
    if (bar.classList.contains("menu-open") && !bar.contains(event.target)) setOpen(false);
  });
})();
