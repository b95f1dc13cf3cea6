// Settings area: copy buttons, the websocket check of the health panel, the `to` format of the
// selected channel kind, and "select all" for webhook logs. No framework; markup is server-rendered.
// Texts go through Django's JavaScript catalog (/jsi18n/, loaded by base.html before this file).
(function () {
  "use strict";
  var gettext = window.gettext || function (text) { return text; };
  var pgettext = window.pgettext || function (context, text) { return text; };
  var interpolate = window.interpolate || function (format, args) {
    return format.replace(/%\(\w+\)s/g, function (match) { return String(args[match.slice(2, -2)]); });
  };

  // --- Copy buttons: <button data-copy="input-id"> -----------------------------------------------
  function copyText(source, status) {
    var text = source.value || source.textContent;
    function done(ok) {
      status.textContent = ok ? gettext("Copied.") : gettext("Select the text and press Ctrl+C to copy.");
    }
    function fallback() {
      // http:// pages (e.g. a LAN install) have no Clipboard API: select and use the old command.
      source.focus();
      if (source.select) source.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy") + "-status") || button;
    if (source) copyText(source, status);
  });

  // --- Websocket check: does this browser get live updates? ---------------------------------------
  function setPill(pill, state, text) {
    pill.className = "pill" + (state ? " " + state : "");
    pill.textContent = text;
    pill.setAttribute("data-state", state || "checking");
  }

  function checkWebsocket(pill) {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/inbox/";
    var settled = false;
    var socket;
    setPill(pill, "", gettext("checking…"));
    function settle(state, text) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      setPill(pill, state, text);
      try { socket.close(); } catch (e) { /* already closed */ }
    }
    var timer = setTimeout(function () { settle("bad", gettext("closed (no answer in 5 s)")); }, 5000);
    try {
      socket = new WebSocket(url);
    } catch (e) {
      settle("bad", interpolate(gettext("closed (%(reason)s)"), { reason: e.message }, true));
      return;
    }
    socket.onopen = function () { settle("ok", pgettext("websocket state", "open")); };
    socket.onclose = function (event) {
      settle("bad", interpolate(gettext("closed (code %(code)s)"), { code: event.code }, true));
    };
  }

  var wsPill = document.querySelector("[data-ws-check]");
  if (wsPill) {
    checkWebsocket(wsPill);
    var again = document.querySelector("[data-ws-check-again]");
    if (again) again.addEventListener("click", function () { checkWebsocket(wsPill); });
  }

  // --- Channel registration: show the `to` format of the selected kind ------------------------------
  var kindSelect = document.getElementById("id_kind");
  var kindHelp = document.getElementById("kind-to-help");
  function showKindHelp() {
    var rows = document.querySelectorAll("[data-kind-help]");
    for (var i = 0; i < rows.length; i++) {
      var selected = rows[i].getAttribute("data-kind-help") === kindSelect.value;
      rows[i].classList.toggle("selected", selected);
      if (selected && kindHelp) {
        kindHelp.textContent = interpolate(
          gettext("Recipients (to) on this kind: %(format)s."), { format: rows[i].cells[1].textContent }, true
        );
      }
    }
  }
  if (kindSelect && kindHelp) {
    kindSelect.setAttribute("aria-describedby", "kind-to-help");
    kindSelect.addEventListener("change", showKindHelp);
    showKindHelp();
  }

  // --- Webhook logs: select all on this page ----------------------------------------------------------
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    var boxes = document.querySelectorAll('input[type=checkbox][form="' + all.getAttribute("data-select-all") + '"]');
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
  });
  // --- Confirm before a destructive step: <button data-confirm="question"> (deactivate a channel or a
  // user, revoke a token) and <form data-confirm-revoke="question"> (an access set to "No access").
  // A native <dialog>: modal, focus moves into it and comes back, Esc cancels, all by keyboard.
  var dialog = null;
  function confirmDialog(question, confirmLabel, onConfirm, opener) {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "dialog confirm-dialog";
      dialog.setAttribute("aria-labelledby", "confirm-question");
      dialog.innerHTML = '<p id="confirm-question"></p><form method="dialog" class="confirm-actions">' +
        '<button type="submit" value="cancel" data-role="cancel"></button>' +
        '<button type="submit" value="confirm" class="danger" data-role="confirm"></button></form>';
      dialog.querySelector("[data-role=cancel]").textContent = gettext("Cancel");
      document.body.appendChild(dialog);
    }
    dialog.querySelector("#confirm-question").textContent = question;
    dialog.querySelector("[data-role=confirm]").textContent = confirmLabel;
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue === "confirm") onConfirm();
      else if (opener) opener.focus();
    };
    dialog.showModal();
    dialog.querySelector("[data-role=cancel]").focus(); // the safe choice has the focus
  }

  function revokes(form) {
    return Array.prototype.some.call(form.querySelectorAll("select"), function (select) {
      var before = Array.prototype.filter.call(select.options, function (o) { return o.defaultSelected; })[0];
      return select.value === "" && before && before.value !== "";
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = button && button.dataset.confirm;
    if (!question && form.dataset.confirmRevoke && revokes(form)) question = form.dataset.confirmRevoke;
    if (!question || form.dataset.confirmed === "1") return;
    event.preventDefault();
    var label = button ? button.textContent.trim() : gettext("Confirm");
    confirmDialog(question, label, function () {
      form.dataset.confirmed = "1";
      if (form.requestSubmit) form.requestSubmit(button || undefined);
      else form.submit();
    }, button);
  });
})();
