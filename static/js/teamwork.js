/* Hubdash inbox, the team's part: the composer's Note mode, the @mention and `/` canned-reply pickers,
 * the label shortcut and who else is on the thread. No build step; loaded after inbox.js.
 *
 * The server renders every bubble, line and header; this file only switches modes, fills the composer
 * from the pickers and tells the socket (through inbox.js's `hubdashInbox.send`) that this agent is
 * viewing or typing.
 */
(function () {
  "use strict";


  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  function openThread() {
    return byId("thread");
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- Reply / Note modes ---------------------------------------------------------------------------

  function setMode(mode) {
    var area = byId("composer-area");
    var note = byId("note-form");
    if (!area || !note) return false;
    // An error under the box was about what the other mode wrote: it goes with that mode.
    if (area.classList.contains("is-note") !== (mode === "note") && window.hubdashInbox) window.hubdashInbox.clearError();
    area.classList.toggle("is-note", mode === "note");
    note.hidden = mode !== "note";
    area.querySelectorAll("[data-mode]").forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.dataset.mode === mode));
    });
    closePicker();
    return true;
  }

  document.body.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-mode]");
    if (!tab) return;
    setMode(tab.dataset.mode);
    var field = tab.dataset.mode === "note" ? byId("note-text") : document.querySelector("#composer textarea[name=text]");
    if (field && !field.disabled) field.focus();
  });

  function typingIn(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  // n: write a note; r: back to the reply (inbox.js then focuses the reply box); l: labels.
  document.addEventListener(
    "keydown",
    function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (typingIn(event.target) || document.querySelector("dialog[open]")) return;
      if (event.key === "n" && setMode("note")) {
        event.preventDefault();
        byId("note-text").focus();
      } else if (event.key === "r") {
        setMode("reply");
      } else if (event.key === "l") {
        var labels = document.querySelector(".thread-header .label-menu");
        if (!labels) return;
        event.preventDefault();
        labels.open = true;
        var first = labels.querySelector("input, button");
        if (first) first.focus();
      }
    },
    true
  );

  // A note leaves: clear the box and take a new key; should the request fail, text and ITS key return.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "note-form") return;
    var text = byId("note-text");
    var key = form.querySelector("[data-role=idempotency-key]");
    if (!text.value.trim()) {
      // Refused here, in the server's words (conversations/actions/notes.py), without a round trip.
      event.preventDefault();
      if (window.hubdashInbox) window.hubdashInbox.showError(gettext("Write something first: a note cannot be empty."));
      return;
    }
    form._pending = { text: text.value, key: key.value };
    text.value = "";
    key.value = newKey();
    closePicker();
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "note-form" || !form._pending) return;
    var saved = form._pending;
    form._pending = null;
    var xhr = event.detail.xhr;
    if (!event.detail.failed && xhr && xhr.status < 400) return;
    var text = byId("note-text");
    if (!text.value) text.value = saved.text;
    form.querySelector("[data-role=idempotency-key]").value = saved.key;
  });

  // --- Pickers: @mentions in notes, `/` canned replies in the reply box --------------------------------

  var picker = null; // { field, list, items, index, start, kind }

  function closePicker() {
    if (!picker) return;
    picker.list.hidden = true;
    picker.list.textContent = "";
    picker.field.removeAttribute("aria-activedescendant");
    picker = null;
  }

  function jsonData(id) {
    var el = byId(id);
    if (!el) return [];
    try {
      return JSON.parse(el.dataset.items || "[]");
    } catch (e) {
      return [];
    }
  }

  // What the text before the caret asks for: "@ali" (mention) or "/gre" at the start of a word (canned).
  function trigger(field) {
    var before = field.value.slice(0, field.selectionStart);
    var kind = field.dataset.picker;
    var match = kind === "mention" ? /(^|[\s(])@([\w.+-]*)$/.exec(before) : /(^|\s)\/([\w-]*)$/.exec(before);
    if (!match) return null;
    return { kind: kind, query: match[2].toLowerCase(), start: before.length - match[2].length - 1 };
  }

  function candidates(kind, query) {
    if (kind === "mention") {
      return jsonData("mention-members")
        .filter(function (m) {
          return !query || m.username.toLowerCase().indexOf(query) === 0 || m.name.toLowerCase().indexOf(query) >= 0;
        })
        .slice(0, 8)
        .map(function (m) {
          return { label: "@" + m.username, detail: m.name, insert: "@" + m.username + " " };
        });
    }
    return jsonData("canned-replies")
      .filter(function (c) {
        return !query || c.code.toLowerCase().indexOf(query) === 0 || c.title.toLowerCase().indexOf(query) >= 0;
      })
      .slice(0, 8)
      .map(function (c) {
        return { label: "/" + c.code, detail: c.title, insert: c.body };
      });
  }

  function renderPicker() {
    var list = picker.list;
    list.textContent = "";
    picker.items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = list.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === picker.index));
      li.className = "picker-item" + (i === picker.index ? " is-active" : "");
      var label = document.createElement("strong");
      label.textContent = item.label; // textContent: names and titles are never markup
      var detail = document.createElement("span");
      detail.textContent = item.detail;
      li.appendChild(label);
      li.appendChild(detail);
      li.dataset.index = String(i);
      list.appendChild(li);
    });
    list.hidden = false;
    // A textarea is a textbox, which has no aria-expanded: the active option says the list is open.
    picker.field.setAttribute("aria-activedescendant", list.id + "-" + picker.index);
  }

  function updatePicker(field) {
    var found = field.dataset.picker ? trigger(field) : null;
    var list = found && byId(field.getAttribute("aria-controls"));
    var items = found && list ? candidates(found.kind, found.query) : [];
    if (!items.length) {
      closePicker();
      return;
    }
    picker = { field: field, list: list, items: items, index: 0, start: found.start, kind: found.kind };
    renderPicker();
  }

  function choose(i) {
    var item = picker.items[i];
    var field = picker.field;
    var caret = field.selectionStart;
    field.value = field.value.slice(0, picker.start) + item.insert + field.value.slice(caret);
    var at = picker.start + item.insert.length;
    closePicker();
    field.focus();
    field.setSelectionRange(at, at);
    field.dispatchEvent(new Event("input", { bubbles: true })); // the counter and the box's height
  }

  document.addEventListener("input", function (event) {
    if (event.target.dataset && event.target.dataset.picker) updatePicker(event.target);
  });

  // Capture phase: before inbox.js sends the reply on Enter.
  document.addEventListener(
    "keydown",
    function (event) {
      if (!picker || event.target !== picker.field) return;
      var n = picker.items.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        picker.index = (picker.index + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
        renderPicker();
      } else if (event.key === "Enter" || event.key === "Tab") {
        choose(picker.index);
      } else if (event.key === "Escape") {
        closePicker();
      } else {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
    },
    true
  );

  // By mouse: mousedown, so the field keeps its focus and caret.
  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest(".picker-item");
    if (option && picker) {
      event.preventDefault();
      choose(Number(option.dataset.index));
    } else if (picker && event.target !== picker.field) {
      closePicker();
    }
  });

  // Enter adds the note (Shift+Enter: a new line), as in the reply box.
  document.addEventListener("keydown", function (event) {
    var text = byId("note-text");
    if (event.target !== text || event.key !== "Enter") return;
    if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    event.preventDefault();
    byId("note-form").requestSubmit();
  });

  // Writing the note answers "a note cannot be empty" (or whatever the last refusal said).
  document.addEventListener("input", function (event) {
    if (event.target === byId("note-text") && event.target.value.trim() && window.hubdashInbox) {
      window.hubdashInbox.clearError();
    }
  });

  // A thread swapped in starts in reply mode (its composer is new).
  document.body.addEventListener("htmx:afterSettle", function () {
    if (picker && !document.body.contains(picker.field)) picker = null;
  });

  // The reply box opens the canned-reply picker on `/` (its markup is inbox.js's; the picker is ours).
  function prepareComposer() {
    var text = document.querySelector("#composer textarea[name=text]");
    if (!text || text.dataset.picker) return;
    text.dataset.picker = "canned";
    text.setAttribute("aria-controls", "canned-picker");
    text.setAttribute("aria-autocomplete", "list");
  }

  htmx.onLoad(prepareComposer);
  prepareComposer();

  // --- Who is here: "Alice is viewing", "Alice is replying…" -------------------------------------------
  // This tab tells the socket (never the database) that its agent views the open thread, every 10 s, and
  // that they type, at most every 2 s. Other agents' tabs show it and let it expire: "replying" after
  // 6 s of silence, "viewing" after 25 s without news (a closed tab says "left" through its socket).

  var TYPING_EVERY_MS = 2000;
  var TYPING_FOR_MS = 6000;
  var VIEWING_EVERY_MS = 10000;
  var VIEWING_FOR_MS = 25000;
  var lastTyping = 0;

  function announce(state) {
    if (!openThread() || !window.hubdashInbox) return false;
    return window.hubdashInbox.send({ type: "presence", state: state });
  }

  function announceViewing() {
    if (document.visibilityState === "hidden") return;
    if (Date.now() - lastTyping < TYPING_FOR_MS) return; // "replying" says "viewing" already
    announce("viewing");
  }

  setInterval(announceViewing, VIEWING_EVERY_MS);

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target !== byId("note-text") && target !== document.querySelector("#composer textarea[name=text]")) return;
    if (Date.now() - lastTyping < TYPING_EVERY_MS) return;
    if (announce("typing")) lastTyping = Date.now();
  });

  // After the socket (re)connects or another thread opens: inbox.js has sent its sync first.
  document.body.addEventListener("htmx:wsOpen", function () {
    setTimeout(announceViewing, 0);
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.id === "thread-pane") setTimeout(announceViewing, 0);
  });

  function showPresence() {
    var now = Date.now();
    document.querySelectorAll(".presence-item").forEach(function (el) {
      if (!el.dataset.seen) el.dataset.seen = String(now); // a new frame replaced it: news just now
      var age = now - Number(el.dataset.seen);
      var typing = el.dataset.state === "typing" && age < TYPING_FOR_MS;
      var text;
      if (typing) {
        text = interpolate(gettext("%s is replying…"), [el.dataset.name]);
      } else if (age < VIEWING_FOR_MS) {
        text = interpolate(gettext("%s is viewing"), [el.dataset.name]);
      } else {
        el.remove();
        return;
      }
      el.classList.toggle("is-typing", typing);
      if (el.textContent !== text) el.textContent = text; // a name is text, never markup
    });
  }

  setInterval(showPresence, 500);
  htmx.onLoad(showPresence);

  window.hubdashTeam = { setMode: setMode };
})();
