/* Hubdash inbox: working a busy queue. Loaded before inbox.js, which asks `window.HubdashTriage` where
 * a live row goes (`hold`, `prepare`).
 *
 * - Triage that holds: while the agent is on a row (a thread open, or the keyboard in the list), a live
 *   update redraws a row where it is instead of moving it, and the "N updated — show" bar puts the list
 *   back in order when the agent asks. j/k therefore walk a stable order. Focus that a redraw took away
 *   goes back to the same control of the redrawn element; the active row stays highlighted.
 * - Selection: a checkbox per row, `x`, Shift+click for a range, "Select all loaded"; the bulk bar acts
 *   on the selection (the server redraws the rows; other tabs hear it live).
 * - `z` opens the snooze menu of the open thread. It, the labels menu and a bubble's React menu close on
 *   Esc, on a click outside and after a choice.
 * - The page title and the favicon carry the number of unread conversations of the current view (its
 *   tab, status, Application and channel), every one, not only the loaded rows: the server counts them
 *   with the view tabs' counts and keeps them live (`#view-unread`, partials/view_unread.html).
 */
(function () {
  "use strict";

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  function list() {
    return byId("inbox-list");
  }

  function rows() {
    var el = list();
    return el ? Array.prototype.slice.call(el.querySelectorAll(":scope > .conv-row")) : [];
  }

  // --- Triage that holds ----------------------------------------------------------------------------

  var held = {}; // row ids redrawn in place whose order changed

  function activeRowId() {
    var row = document.querySelector("#inbox-list > .conv-row.is-active");
    return row ? row.id : "";
  }

  function triaging() {
    var el = list();
    return !!el && (!!activeRowId() || el.contains(document.activeElement));
  }

  function showHeldBar() {
    var bar = byId("held-bar");
    if (!bar) return;
    var n = Object.keys(held).length;
    bar.hidden = n === 0;
    bar.textContent = n
      ? interpolate(ngettext("%s updated — show in order", "%s updated — show in order", n), [n])
      : "";
  }

  window.HubdashTriage = {
    // A redraw of an element (the thread header) keeps its open menus open, like the rename form.
    keepOpen: function (current, incoming) {
      current.querySelectorAll("details[open]").forEach(function (open) {
        if (!open.classList.length || open.classList.contains("rename")) return;
        var next = incoming.querySelector("details." + CSS.escape(open.classList[0]));
        if (next) next.setAttribute("open", "");
      });
    },
    // A live row that exists already: keep its place (true) while the agent triages and its order moved.
    hold: function (incoming, existing) {
      if (!triaging()) return false;
      if (existing.getAttribute("data-sort") !== incoming.getAttribute("data-sort")) {
        held[incoming.id] = true;
        showHeldBar();
      }
      return true;
    },
    // A whole list from the server (the resync after a reconnect, an access change) while the agent
    // triages: rows the tab shows keep their order, new rows go where they sort among them, and rows
    // whose order changed count as held. `compare` orders two data-sort keys (ascending).
    holdList: function (current, incoming, compare) {
      var fresh = Array.prototype.slice.call(incoming.querySelectorAll(":scope > .conv-row"));
      fresh.forEach(window.HubdashTriage.prepare);
      if (!triaging() || !fresh.length) return;
      var shown = {};
      Array.prototype.forEach.call(current.querySelectorAll(":scope > .conv-row"), function (row, i) {
        shown[row.id] = { index: i, key: row.getAttribute("data-sort") };
      });
      var kept = fresh
        .filter(function (row) { return shown[row.id]; })
        .sort(function (a, b) { return shown[a.id].index - shown[b.id].index; });
      fresh.forEach(function (row) {
        if (shown[row.id]) {
          if (shown[row.id].key !== row.getAttribute("data-sort")) held[row.id] = true;
          return;
        }
        var key = row.getAttribute("data-sort");
        var at = kept.findIndex(function (other) { return compare(other.getAttribute("data-sort"), key) < 0; });
        kept.splice(at < 0 ? kept.length : at, 0, row);
      });
      var place = document.createComment("rows");
      fresh[0].before(place);
      fresh.forEach(function (row) { row.remove(); });
      place.replaceWith.apply(place, kept);
      showHeldBar();
    },
    // Before a live row replaces the old one: the browser's own facts win (which row is active, which
    // are selected), since a frame may have been drawn before the agent moved.
    prepare: function (incoming) {
      var activeId = activeRowId();
      if (activeId) {
        var active = incoming.id === activeId;
        incoming.classList.toggle("is-active", active);
        var link = incoming.querySelector(".conv-link");
        if (link && active) link.setAttribute("aria-current", "page");
        else if (link) link.removeAttribute("aria-current");
      }
      var box = incoming.querySelector(".row-select");
      if (box && selected[incoming.getAttribute("data-conversation-id")]) {
        box.setAttribute("checked", "");
        incoming.classList.add("is-selected");
      }
    },
  };

  function showInOrder() {
    held = {};
    showHeldBar();
    var el = list();
    var query = el ? el.dataset.filters || "" : "";
    htmx.ajax("GET", "/" + (query ? "?" + query : ""), { target: "#inbox-list-wrap", swap: "innerHTML" });
  }

  // Focus: remember where the keyboard is, and put it back when a redraw replaced that element.
  var focusMemo = null;

  function selectorFor(el) {
    if (el.id) return "#" + CSS.escape(el.id);
    var sel = el.tagName.toLowerCase();
    ["data-action", "name", "data-snooze", "data-bulk"].forEach(function (attr) {
      var value = el.getAttribute(attr);
      if (value) sel += "[" + attr + '="' + CSS.escape(value) + '"]';
    });
    if (el.classList.length) sel += "." + CSS.escape(el.classList[0]);
    return sel;
  }

  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (!(el instanceof Element)) return;
    var anchor = el.parentElement && el.parentElement.closest("[id]");
    focusMemo = anchor ? { el: el, anchor: anchor.id, selector: selectorFor(el) } : null;
  });

  function restoreFocus() {
    var memo = focusMemo;
    if (!memo || memo.el.isConnected) return; // still there (or the agent moved on): nothing to do
    var active = document.activeElement;
    if (active && active !== document.body) return;
    var anchor = byId(memo.anchor);
    var target = anchor && (anchor.matches(memo.selector) ? anchor : anchor.querySelector(memo.selector));
    if (target) target.focus({ preventScroll: true });
  }

  document.body.addEventListener("htmx:oobAfterSwap", restoreFocus);
  document.body.addEventListener("htmx:afterSettle", restoreFocus);
  document.body.addEventListener("htmx:wsAfterMessage", restoreFocus);

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "inbox-list-wrap") {
      held = {};
      showHeldBar();
      syncSelection();
    }
    updateTitle();
  });

  // --- Selection and the bulk bar -------------------------------------------------------------------

  var selected = {}; // conversation id -> true
  var lastClicked = null;

  function setSelected(row, on) {
    var id = row.getAttribute("data-conversation-id");
    if (on) selected[id] = true;
    else delete selected[id];
    var box = row.querySelector(".row-select");
    if (box) box.checked = on;
    row.classList.toggle("is-selected", on);
  }

  function syncSelection() {
    // Rows that left the list leave the selection; redrawn rows keep their box ticked (prepare).
    var present = {};
    rows().forEach(function (row) {
      var id = row.getAttribute("data-conversation-id");
      present[id] = true;
      setSelected(row, !!selected[id]);
    });
    Object.keys(selected).forEach(function (id) {
      if (!present[id]) delete selected[id];
    });
    var n = Object.keys(selected).length;
    var bar = byId("bulk-form");
    if (bar) bar.hidden = n === 0;
    var count = byId("bulk-count");
    if (count) count.textContent = n ? interpolate(ngettext("%s selected", "%s selected", n), [n]) : "";
    if (list()) list().classList.toggle("is-selecting", n > 0);
  }

  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest(".row-select");
    if (box) {
      var row = box.closest(".conv-row");
      var all = rows();
      if (event.shiftKey && lastClicked && lastClicked.isConnected) {
        var from = all.indexOf(lastClicked);
        var to = all.indexOf(row);
        var lo = Math.min(from, to);
        var hi = Math.max(from, to);
        for (var i = lo; i <= hi; i++) setSelected(all[i], box.checked);
      } else {
        setSelected(row, box.checked);
      }
      lastClicked = row;
      syncSelection();
      return;
    }
    var button = event.target.closest && event.target.closest("[data-action]");
    if (!button) return;
    var action = button.getAttribute("data-action");
    if (action === "select-all") {
      rows().forEach(function (r) { setSelected(r, true); });
      syncSelection();
    } else if (action === "clear-selection") {
      selected = {};
      syncSelection();
    } else if (action === "show-held") {
      showInOrder();
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    // A bulk action done: the selection has served its purpose.
    if (event.detail.elt && event.detail.elt.id === "bulk-form" && event.detail.successful) {
      selected = {};
      syncSelection();
    }
  });

  document.body.addEventListener("htmx:oobAfterSwap", function () {
    syncSelection();
    updateTitle();
  });

  // --- Keyboard: x selects the row the agent is on, z snoozes the open thread ---------------------------

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    if (document.querySelector("dialog[open]")) return;
    if (event.key === "x") {
      var row = (target.closest && target.closest(".conv-row")) || byId(activeRowId());
      if (!row) return;
      setSelected(row, !selected[row.getAttribute("data-conversation-id")]);
      lastClicked = row;
      syncSelection();
      event.preventDefault();
    } else if (event.key === "z") {
      var menu = document.querySelector(".thread-header .snooze-menu");
      if (!menu) return;
      menu.open = true;
      var first = menu.querySelector("[data-snooze]");
      if (first) first.focus();
      event.preventDefault();
    }
  });

  // --- The thread's menus: snooze (z), labels (l, static/js/teamwork.js), a bubble's React ------------
  // <details> menus, closed as a menu is: Esc (the focus back on the button that opened it), a click
  // outside, or a choice. A choice closes it as its form is sent, before the header or bubble the answer
  // redraws could keep it open (keepOpen above).

  var MENUS = ".thread-header details.snooze-menu, .thread-header details.label-menu, #thread details.msg-react";

  function openMenus() {
    return Array.prototype.filter.call(document.querySelectorAll(MENUS), function (menu) { return menu.open; });
  }

  function closeMenu(menu, refocus) {
    menu.open = false;
    var button = menu.querySelector(":scope > summary");
    if (button && refocus) button.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) return;
    var menus = openMenus();
    if (!menus.length) return;
    menus.forEach(function (menu) { closeMenu(menu, true); });
    event.preventDefault(); // inbox.js only blurs the field the focus was in
  });

  document.addEventListener("click", function (event) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var menu = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest(MENUS);
    // The focus was on the choice, inside the closing menu: it goes to the menu's button.
    if (menu) closeMenu(menu, menu.contains(document.activeElement));
  });

  // --- Search hits and day separators ----------------------------------------------------------------

  function searchTerm() {
    var el = list();
    if (!el) return "";
    try {
      return (new URLSearchParams(el.dataset.filters || "").get("q") || "").trim();
    } catch (error) {
      return "";
    }
  }

  // Wrap each occurrence of the term in <mark>, in text nodes only (nothing is parsed as HTML).
  function markTerm(root, term) {
    if (!term) return;
    var lower = term.toLowerCase();
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) {
      var node = walker.currentNode;
      if (node.parentElement.closest("mark.search-hit")) continue;
      if (node.nodeValue.toLowerCase().indexOf(lower) >= 0) nodes.push(node);
    }
    nodes.forEach(function (node) {
      var text = node.nodeValue;
      var fragment = document.createDocumentFragment();
      var at = 0;
      var found;
      while ((found = text.toLowerCase().indexOf(lower, at)) >= 0) {
        fragment.appendChild(document.createTextNode(text.slice(at, found)));
        var mark = document.createElement("mark");
        mark.className = "search-hit";
        mark.textContent = text.slice(found, found + term.length);
        fragment.appendChild(mark);
        at = found + term.length;
      }
      fragment.appendChild(document.createTextNode(text.slice(at)));
      node.replaceWith(fragment);
    });
  }

  function markSearchHits() {
    // The message a search opened the thread at stays marked when a live frame redraws its bubble.
    var thread = byId("thread");
    var hit = thread && thread.dataset.searchHit && byId("msg-" + thread.dataset.searchHit);
    if (hit) hit.classList.add("is-search-hit");
    var term = searchTerm();
    if (!term) return;
    document.querySelectorAll("#inbox-list .conv-name, #inbox-list .conv-preview, #thread .msg-text").forEach(function (el) {
      markTerm(el, term);
    });
  }

  // Days are the user's, in their profile's zone (<html data-time-zone>), as inbox.js shows every time:
  // not the browser's, which may be elsewhere. inbox.js (loaded after this file) lends the helpers.
  var dayFormat = null;

  function dayLabel(day, when) {
    var today = window.HubdashTimes.dayIndex(new Date());
    if (day === today) return gettext("Today");
    if (day === today - 1) return gettext("Yesterday");
    dayFormat = dayFormat || window.HubdashTimes.intl({ dateStyle: "full" });
    return dayFormat.format(when);
  }

  // One separator before the first bubble of each day.
  function daySeparators() {
    if (!window.HubdashTimes) return;
    document.querySelectorAll(".thread-messages").forEach(function (messages) {
      messages.querySelectorAll(":scope > .day-separator").forEach(function (el) { el.remove(); });
      var last = null;
      messages.querySelectorAll(":scope > [data-message-id]").forEach(function (bubble) {
        var time = bubble.querySelector(".msg-meta time[datetime]");
        var when = time && new Date(time.getAttribute("datetime"));
        if (!when || isNaN(when)) return;
        var day = window.HubdashTimes.dayIndex(when);
        if (day === last) return;
        last = day;
        var separator = document.createElement("li");
        separator.className = "day-separator";
        // A plain list item ("Today"): a separator role is not allowed as a child of the list.
        separator.textContent = dayLabel(day, when);
        bubble.before(separator);
      });
    });
  }

  function afterChange() {
    daySeparators();
    markSearchHits();
  }

  // The contact panel opens beside the thread on a wide screen; on a phone it waits behind its button.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "thread-pane") return;
    closePanelOnPhones();
  });

  function closePanelOnPhones() {
    if (!window.matchMedia("(max-width: 800px)").matches) return;
    document.querySelectorAll("#thread .contact-panel[open]").forEach(function (panel) { panel.open = false; });
  }

  document.addEventListener("DOMContentLoaded", closePanelOnPhones);

  document.body.addEventListener("htmx:afterSettle", afterChange);
  document.body.addEventListener("htmx:oobAfterSwap", afterChange);
  document.body.addEventListener("htmx:wsAfterMessage", afterChange);
  document.addEventListener("DOMContentLoaded", afterChange);

  // --- Notifications: a desktop notification and/or a sound, per the user's profile settings ----------

  var app = byId("inbox-app");
  var notifyOn = ((app && app.dataset.notify) || "").split(" ");
  var audio = null;

  function beep() {
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      audio = audio || new Context();
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + 0.35);
    } catch (error) {
      // No audio (a browser without Web Audio, or not yet allowed to play): the title still says it.
    }
  }

  document.addEventListener("hubdash:notify", function (event) {
    var notice = event.detail;
    var thread = byId("thread");
    // The agent is looking at this thread in a focused tab: they see the message already.
    if (document.hasFocus() && thread && thread.dataset.conversationId === notice.conversation) return;
    if (notifyOn.indexOf("sound:" + notice.reason) >= 0) beep();
    if (notifyOn.indexOf("desktop:" + notice.reason) < 0) return;
    if (!("Notification" in window) || Notification.permission !== "granted") return; // denied: nothing breaks
    var title = notice.reason === "new"
      ? interpolate(gettext("New conversation: %s"), [notice.title])
      : notice.reason === "mention"
        ? interpolate(gettext("%s mentioned you in a note"), [notice.title])
        : interpolate(gettext("%s wrote"), [notice.title]);
    // One per message (a note is a message too) however many tabs are open: the browser replaces a
    // notification with the same tag.
    var shown = new Notification(title, { body: notice.body, tag: "hubdash-message-" + notice.message });
    shown.onclick = function () {
      window.focus();
      var link = document.querySelector("#conv-" + notice.conversation + " a.conv-link");
      if (link) link.click();
      else window.location.href = "/conversations/" + notice.conversation + "/";
      shown.close();
    };
  });

  // --- Unread count in the title and the favicon ------------------------------------------------------

  var icon = document.querySelector("link[rel=icon]");
  var baseIcon = icon ? icon.href : "";

  function unreadCount() {
    var counted = byId("view-unread");
    return counted ? Number(counted.getAttribute("data-count")) || 0 : 0;
  }

  function badgeIcon(n) {
    var label = n > 99 ? "99+" : String(n);
    var svg =
      "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' rx='4' fill='#3b5bdb'/>" +
      "<path d='M4 5h8v5H7l-3 2z' fill='#fff'/><circle cx='11.5' cy='4.5' r='4.5' fill='#e03131'/>" +
      "<text x='11.5' y='6.4' font-size='" + (label.length > 1 ? 4.2 : 6) + "' text-anchor='middle' fill='#fff' font-family='sans-serif' font-weight='700'>" +
      label + "</text></svg>";
    return "data:image/svg+xml," + encodeURIComponent(svg);
  }

  function titlePrefix() {
    var n = unreadCount();
    return n ? "(" + n + ") " : "";
  }

  window.HubdashTriage.titlePrefix = titlePrefix;

  // The rest of the title (the open thread's contact) is inbox.js's: only the count in front changes here.
  function updateTitle() {
    var n = unreadCount();
    var title = titlePrefix() + document.title.replace(/^\(\d+\) /, "");
    if (document.title !== title) document.title = title;
    if (icon) {
      var href = n ? badgeIcon(n) : baseIcon;
      if (icon.getAttribute("data-count") !== String(n)) {
        icon.href = href;
        icon.setAttribute("data-count", String(n));
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncSelection();
    updateTitle();
  });
})();
