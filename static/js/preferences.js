// The browser's time zone: sent once with the sign-in form (the first zone a user gets), and offered on
// the profile page. No framework; the markup is server-rendered.
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (!zone) return;

  // Sign-in: <input type="hidden" name="time_zone">; the server keeps it only if the user has none yet.
  var hidden = document.querySelectorAll("input[type=hidden][name=time_zone]");
  for (var i = 0; i < hidden.length; i++) hidden[i].value = zone;

  // Profile: "This browser is in <zone>. [Use this zone]" when the select knows that zone.
  var select = document.getElementById("id_time_zone");
  var hint = document.querySelector("[data-browser-zone]");
  if (!select || !hint) return;
  var known = false;
  for (var j = 0; j < select.options.length; j++) if (select.options[j].value === zone) known = true;
  if (!known || select.value === zone) return;
  hint.querySelector("[data-browser-zone-name]").textContent = zone;
  hint.hidden = false;
  hint.querySelector("[data-use-browser-zone]").addEventListener("click", function () {
    select.value = zone;
    hint.hidden = true;
    select.focus();
  });
})();

// Profile: the browser's notification permission, said in a sentence, and asked for on a click (browsers
// ignore a request that no user gesture started). A refusal is shown; nothing else depends on it.
(function () {
  "use strict";
  var status = document.getElementById("notification-permission");
  var allow = document.getElementById("allow-notifications");
  if (!status || !allow) return;
  function show() {
    var state = "Notification" in window ? Notification.permission : "unsupported";
    status.dataset.permission = state;
    status.textContent = status.dataset["text" + state.charAt(0).toUpperCase() + state.slice(1)] || "";
    allow.hidden = state !== "default";
  }
  allow.addEventListener("click", function () {
    var asked = Notification.requestPermission(show);
    if (asked && asked.then) asked.then(show);
  });
  show();
})();
