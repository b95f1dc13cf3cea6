/* Hubdash inbox: live frames, resync after a drop, the composer, keyboard shortcuts. No build step.
 *
 * The server renders every piece of markup. This file only decides WHERE a server-rendered element goes
 * (the `live` htmx extension below turns each `data-live` element of a frame into an htmx out-of-band
 * swap) and keeps the socket honest: on every (re)connect it asks for everything after the cursor of
 * the last frame it applied, and it swaps by element id, so nothing is missed and nothing appears twice.
 */
(function () {
  "use strict";

  // Texts go through Django's JavaScript catalog (/jsi18n/, loaded by base.html before this file).
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var pgettext = window.pgettext || function (context, text) { return text; };
  var interpolate = window.interpolate || function (format, args) {
    return format.replace(/%\(\w+\)s/g, function (match) { return String(args[match.slice(2, -2)]); });
  };

  var LIVE_MARK = "<!--live-->";
  var HEARTBEAT_MS = 25000;
  var HEARTBEAT_TIMEOUT_MS = 10000;
  // Codes the ws extension reconnects on by itself; on any other close we reconnect (except 4401).
  var AUTO_RECONNECT_CODES = [1006, 1011, 1012, 1013];
  var UNAUTHENTICATED = 4401;

  htmx.config.historyCacheSize = 0; // never show a stored snapshot of the page (it would be stale)...
  htmx.config.refreshOnHistoryMiss = true; // ...Back/Forward load the page afresh instead
  htmx.config.wsReconnectDelay = function (retry) {
    return Math.min(250 * Math.pow(2, retry), 4000) * (0.5 + Math.random() / 2);
  };
  // A refused reply or action answers 422 with a frame that explains why: show it, it is not a crash.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "422", swap: true, error: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  // Sort keys are fixed-width digit strings: a longer one is larger, equal lengths compare as text.
  function compareKeys(a, b) {
    if (a.length !== b.length) return a.length - b.length;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  // --- The `live` extension: where each element of a frame goes -------------------------------------

  var pendingMeta = [];

  // Where an element of a frame goes among its container's children. `planned` holds, per container,
  // the sorted children as they will be once the frame's earlier elements are in: several new messages
  // in one frame (a resync) then land in order, each after the one before it.
  function sortedChildren(container, planned) {
    if (!planned[container.id]) {
      planned[container.id] = Array.prototype.filter
        .call(container.children, function (child) {
          return child.hasAttribute("data-sort") && child.id;
        })
        .map(function (child) {
          return { id: child.id, key: child.getAttribute("data-sort") };
        });
    }
    return planned[container.id];
  }

  function planUpsert(el, planned) {
    var container = byId(el.getAttribute("data-live-into"));
    var key = el.getAttribute("data-sort") || "";
    var existing = byId(el.id);
    if (!container) {
      el.remove(); // e.g. a bubble of a thread this tab is not showing any more
      return;
    }
    var siblings = sortedChildren(container, planned);
    var at = siblings.findIndex(function (s) { return s.id === el.id; });
    var triage = window.HubdashTriage;
    // A redraw keeps the element's open menus open (a bubble's React menu the agent is choosing from).
    if (triage && existing) triage.keepOpen(existing, el);
    if (triage && container.id === "inbox-list") triage.prepare(el);
    var held = triage && container.id === "inbox-list" && existing && existing.parentNode === container &&
      triage.hold(el, existing);
    if (existing && at >= 0 && existing.parentNode === container && (held || siblings[at].key === key)) {
      // Same place: redraw in place (or, while the agent triages, keep the place: static/js/triage.js).
      el.setAttribute("hx-swap-oob", "outerHTML");
      return;
    }
    if (at >= 0) siblings.splice(at, 1);
    var desc = container.getAttribute("data-live-order") === "desc";
    var index = siblings.length;
    for (var i = 0; i < siblings.length; i++) {
      var cmp = compareKeys(siblings[i].key, key);
      if (desc ? cmp < 0 : cmp > 0) {
        index = i;
        break;
      }
    }
    // Past an unloaded part (older messages, the next page of rows): scrolling will bring it.
    var beyondStart = index === 0 && siblings.length > 0 && container.querySelector(":scope > [data-sentinel=before]");
    var beyondEnd = index === siblings.length && container.querySelector(":scope > [data-sentinel=after]");
    if (existing) existing.remove();
    if (beyondStart || beyondEnd) {
      el.remove();
      return;
    }
    var spec;
    if (index < siblings.length) {
      spec = "beforebegin:#" + siblings[index].id;
    } else if (siblings.length) {
      spec = "afterend:#" + siblings[siblings.length - 1].id;
    } else {
      var start = container.querySelector(":scope > [data-live-start]");
      spec = start && start.id ? "afterend:#" + start.id : "afterbegin:#" + container.id;
    }
    siblings.splice(index, 0, { id: el.id, key: key });
    // Non-outerHTML out-of-band swaps insert the wrapper's children, so wrap the element.
    var wrapper = document.createElement("div");
    wrapper.setAttribute("hx-swap-oob", spec);
    el.replaceWith(wrapper);
    wrapper.appendChild(el);
  }

  function transformFrame(text) {
    if (typeof text !== "string" || text.lastIndexOf(LIVE_MARK, 0) !== 0) return text;
    var template = document.createElement("template");
    template.innerHTML = text;
    var planned = {};
    Array.prototype.slice.call(template.content.children).forEach(function (el) {
      var op = el.getAttribute("data-live");
      if (op === "meta") {
        pendingMeta.push(el.dataset);
        el.remove();
      } else if (op === "notify") {
        // Not shown: a customer wrote; static/js/triage.js decides whether to notify (the user's settings).
        document.dispatchEvent(new CustomEvent("hubdash:notify", { detail: Object.assign({}, el.dataset) }));
        el.remove();
      } else if (op === "upsert") {
        planUpsert(el, planned);
      } else if ((op === "replace" || op === "remove") && byId(el.id)) {
        if (op === "replace") keepRenameDraft(byId(el.id), el);
        if (op === "replace" && el.classList.contains("contact-panel")) keepPanelDraft(byId(el.id), el);
        if (op === "replace" && window.HubdashTriage) window.HubdashTriage.keepOpen(byId(el.id), el);
        if (op === "replace" && el.id === "inbox-list" && window.HubdashTriage) {
          window.HubdashTriage.holdList(byId(el.id), el, compareKeys);
        }
        el.setAttribute("hx-swap-oob", op === "replace" ? "outerHTML" : "delete");
      } else {
        el.remove(); // nothing to replace or remove here: ignore rather than log an htmx error
      }
    });
    return template.innerHTML;
  }

  // Naming a contact: the thread header is redrawn by every update of its conversation (a customer's
  // message, a colleague's assignment, a resync), often while the agent is typing the name. The redraw
  // keeps the form open with what was typed, and the keyboard in it: a field that vanished would send
  // the rest of the name to the shortcuts ("e" resolves the conversation).
  var keptFocus = null; // the field a redraw replaced while the agent was in it, to focus its successor

  function keepFocus(old, field) {
    if (document.activeElement !== old) return;
    var caret = typeof old.selectionStart === "number";
    keptFocus = {
      old: old,
      id: field.id,
      start: caret ? old.selectionStart : null,
      end: caret ? old.selectionEnd : null,
      scroll: old.scrollTop,
    };
  }

  function keepRenameDraft(current, incoming) {
    var open = current.querySelector("details.rename[open]");
    var next = incoming.querySelector("details.rename");
    if (!open || !next) return;
    next.setAttribute("open", "");
    var typed = open.querySelector("input[name=display_name]");
    var field = next.querySelector("input[name=display_name]");
    if (!typed || !field) return;
    field.setAttribute("value", typed.value);
    keepFocus(typed, field);
  }

  // The contact panel is redrawn live when a colleague renames the contact, edits its notes or links
  // another channel (and at every resync), while this agent may be writing notes of their own. A draft
  // (a value that differs from the notes the field was drawn with) or a field being edited (the focus in
  // the notes form) stays as it is, with the caret; the colleague's notes wait in `data-theirs` and, when
  // they differ from what the draft started from, a line says so and offers them ("Use their notes").
  // A field the agent only visited, unchanged, takes the new notes once they leave it. The search for a
  // contact to link keeps its words and results, and the panel stays open or closed as the agent left it.
  function notesBase(field) {
    return field.hasAttribute("data-base") ? field.getAttribute("data-base") : field.defaultValue;
  }

  function keepPanelDraft(current, incoming) {
    if (current.open) incoming.setAttribute("open", "");
    else incoming.removeAttribute("open");
    var typed = current.querySelector("form.contact-notes textarea[name=notes]");
    var field = incoming.querySelector("form.contact-notes textarea[name=notes]");
    if (typed && field) {
      var base = notesBase(typed);
      var editing = typed.form.contains(document.activeElement);
      if (editing || typed.value !== base) {
        var theirs = field.value; // the notes as saved now (the incoming field is not shown yet)
        field.textContent = typed.value;
        field.setAttribute("data-base", base);
        field.setAttribute("data-theirs", theirs);
        var conflict = incoming.querySelector("[data-role=notes-conflict]");
        if (conflict && theirs !== base && theirs !== typed.value) conflict.hidden = false;
        keepFocus(typed, field);
      }
    }
    var search = current.querySelector(".link-search input[name=q]");
    var nextSearch = incoming.querySelector(".link-search input[name=q]");
    if (search && nextSearch && (search.value || document.activeElement === search)) {
      nextSearch.setAttribute("value", search.value);
      var found = current.querySelector(".link-candidates");
      var nextFound = incoming.querySelector(".link-candidates");
      if (found && nextFound) nextFound.innerHTML = found.innerHTML;
      keepFocus(search, nextSearch);
      // A search still waiting for its pause (or its answer) belonged to the old field, which htmx then
      // drops: the new one asks again.
      if (search.value) nextSearch.setAttribute("data-search-again", "");
    }
  }

  document.addEventListener("htmx:oobAfterSwap", function () {
    var field = document.querySelector("#thread .link-search input[data-search-again]");
    if (!field || !field.form) return;
    field.removeAttribute("data-search-again");
    htmx.ajax("GET", field.form.getAttribute("hx-get"), {
      target: field.form.getAttribute("hx-target"),
      swap: "innerHTML",
      values: { q: field.value },
    });
  });

  // Leaving the notes unchanged, or taking the colleague's: the field shows the saved notes again.
  function takeTheirNotes(field) {
    field.value = field.getAttribute("data-theirs");
    field.removeAttribute("data-base");
    field.removeAttribute("data-theirs");
    var conflict = field.form && field.form.querySelector("[data-role=notes-conflict]");
    if (conflict) conflict.hidden = true;
  }

  document.addEventListener("focusout", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("form.contact-notes textarea[data-theirs]")) return;
    if (field.form && field.form.contains(event.relatedTarget)) return; // on to the form's own buttons
    if (field.value === notesBase(field)) takeTheirNotes(field);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-action=use-their-notes]");
    var field = button && button.form && button.form.querySelector("textarea[data-theirs]");
    if (!field) return;
    takeTheirNotes(field);
    field.focus();
  });

  document.addEventListener("htmx:oobAfterSwap", function () {
    var saved = keptFocus;
    var field = saved && byId(saved.id);
    if (!field || field === saved.old) return; // another element of the frame: the field comes later
    keptFocus = null;
    field.focus();
    if (saved.start !== null && field.setSelectionRange) field.setSelectionRange(saved.start, saved.end);
    field.scrollTop = saved.scroll;
  });

  // Saving closes the form at once; the answer redraws the header with the new name.
  document.addEventListener(
    "submit",
    function (event) {
      var details = event.target.closest && event.target.closest("details.rename");
      if (details) details.open = false;
    },
    true
  );

  htmx.defineExtension("live", {
    transformResponse: function (text) {
      return transformFrame(text);
    },
  });

  // --- Connection state, cursor and resync -----------------------------------------------------------

  var app = byId("inbox-app");
  if (!app) return;

  var state = {
    gen: 0,
    cursor: app.dataset.cursor || "",
    ws: null, // the WebSocket currently open
    wrapper: null, // the ws extension's wrapper (send / reconnect)
    everOpened: false,
    lastHeard: Date.now(),
    heartbeat: null,
    markReadTimer: null,
    leaving: null, // a thread marked unread: do not read it again while leaving it
    // Server clock minus ours, so the window countdown does not depend on the agent's clock.
    skew: (Date.parse(app.dataset.cursor) || Date.now()) - Date.now(),
  };

  var STATE_TEXT = {
    live: pgettext("connection state", "Live"),
    connecting: gettext("Connecting…"),
    reconnecting: gettext("Reconnecting…"),
    offline: gettext("Signed out"),
  };

  function setConnection(name) {
    var el = byId("connection-state");
    if (!el || el.dataset.state === name) return;
    el.dataset.state = name;
    el.textContent = STATE_TEXT[name];
    app.dataset.connection = name;
  }

  function minCursor(a, b) {
    // ISO 8601 times of one server clock, same zone and precision: text order is time order.
    if (!a) return b || "";
    if (!b) return a;
    return a < b ? a : b;
  }

  function openThread() {
    return byId("thread");
  }

  function newestMessageId(thread) {
    if (!thread) return 0;
    var max = 0;
    thread.querySelectorAll("[data-message-id]").forEach(function (el) {
      max = Math.max(max, Number(el.dataset.messageId) || 0);
    });
    return max;
  }

  function loadedRowIds() {
    var ids = [];
    document.querySelectorAll("#inbox-list > [data-conversation-id]").forEach(function (el) {
      ids.push(Number(el.dataset.conversationId));
    });
    return ids.slice(0, 500);
  }

  function currentFilters() {
    var list = byId("inbox-list");
    return list ? list.dataset.filters || "" : "";
  }

  function socketOpen() {
    return state.ws && state.ws.readyState === WebSocket.OPEN;
  }

  function sendJson(message) {
    // Only on an open socket: the extension would queue it and replay it after our own resync.
    if (!socketOpen()) return false;
    state.ws.send(JSON.stringify(message));
    return true;
  }

  // Tell the server what this tab shows and ask for everything since `since` (default: the cursor).
  // scope "all" after a (re)connect; "thread" / "list" when only that region was just swapped in.
  function sync(scope, since) {
    state.gen += 1;
    var thread = openThread();
    return sendJson({
      type: "sync",
      gen: state.gen,
      scope: scope || "all",
      since: since || state.cursor,
      conversation: thread ? Number(thread.dataset.conversationId) : null,
      // A thread opened at a search hit has a gap below: catch up from the newest message it stands for.
      after: Math.max(newestMessageId(thread), Number(thread && thread.dataset.newestId) || 0),
      rows: loadedRowIds(),
      filters: currentFilters(),
    });
  }

  function applyMeta(meta) {
    state.lastHeard = Date.now();
    if (meta.kind === "pong") return;
    if (meta.gap) {
      // The socket missed an event before this one (data-seq jumped): catch up from our own cursor,
      // which this frame must not move past what we missed.
      sync();
      return;
    }
    if (Number(meta.gen) !== state.gen) return; // rendered for what the tab showed before: no cursor
    if (meta.cursor) {
      state.cursor = meta.cursor;
      app.dataset.cursor = meta.cursor;
    }
    if (meta.kind === "sync") setConnection("live");
  }

  function startHeartbeat() {
    stopHeartbeat();
    state.heartbeat = setInterval(function () {
      if (!socketOpen()) return;
      if (Date.now() - state.lastHeard > HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS) {
        // The connection is silently dead (sleep, network change): start a new one.
        setConnection("reconnecting");
        state.abandoned = state.ws; // its late close event must not start yet another socket
        state.ws = null;
        if (state.wrapper) state.wrapper.reconnect();
        return;
      }
      sendJson({ type: "ping" });
    }, HEARTBEAT_MS);
  }

  function stopHeartbeat() {
    if (state.heartbeat) clearInterval(state.heartbeat);
    state.heartbeat = null;
  }

  app.addEventListener("htmx:wsConnecting", function () {
    setConnection(state.everOpened ? "reconnecting" : "connecting");
  });

  app.addEventListener("htmx:wsOpen", function (event) {
    state.ws = event.detail.event.target;
    state.wrapper = event.detail.socketWrapper;
    state.everOpened = true;
    state.lastHeard = Date.now();
    sync();
    startHeartbeat();
  });

  app.addEventListener("htmx:wsClose", function (event) {
    var socket = event.detail.event.target;
    if (socket === state.abandoned || (state.ws && socket !== state.ws)) return; // one we already replaced
    state.ws = null;
    stopHeartbeat();
    var code = event.detail.event.code;
    if (code === UNAUTHENTICATED) {
      setConnection("offline");
      return;
    }
    setConnection("reconnecting");
    if (AUTO_RECONNECT_CODES.indexOf(code) < 0 && event.detail.socketWrapper) {
      var wrapper = event.detail.socketWrapper;
      setTimeout(function () {
        if (!socketOpen()) wrapper.reconnect();
      }, htmx.config.wsReconnectDelay(1));
    }
  });

  app.addEventListener("htmx:wsAfterMessage", function () {
    var metas = pendingMeta;
    pendingMeta = [];
    state.lastHeard = Date.now();
    metas.forEach(applyMeta);
    // The open thread says which row is active: a frame (or a resync's list) may have been drawn for
    // what the tab showed before the agent moved on, and must not take the highlight away. Not while a
    // row's thread is loading: that row is the active one already (j/k, a click), its thread not yet.
    if (!document.querySelector("#inbox-list .conv-link.htmx-request")) markActiveRow();
    scheduleAfterChange();
  });

  // Out-of-band swaps come from frames and from action responses alike.
  document.body.addEventListener("htmx:oobAfterSwap", scheduleAfterChange);

  // A refused action says why in the toast for a few seconds.
  var toastTimer = null;
  document.body.addEventListener("htmx:oobAfterSwap", function () {
    var toast = byId("inbox-toast");
    if (!toast || !toast.textContent.trim()) return;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      var current = byId("inbox-toast");
      if (current) current.textContent = "";
    }, 6000);
  });

  window.addEventListener("online", function () {
    if (!socketOpen() && state.wrapper) state.wrapper.reconnect();
  });

  // --- Regions swapped by navigation: tell the socket, catch up from the region's own render time -----

  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) return;
    // The region was rendered at its own time: the socket catches it up from then, and the cursor of a
    // later reconnect may not pass that time until a frame for the new state arrives.
    if (target.id === "thread-pane") {
      var thread = openThread();
      var renderedAt = thread ? thread.dataset.renderedAt : "";
      state.cursor = minCursor(state.cursor, renderedAt);
      state.leaving = null;
      app.classList.toggle("has-thread", !!thread);
      markActiveRow();
      prepareThread();
      sync("thread", renderedAt);
    } else if (target.id === "inbox-list-wrap") {
      var list = byId("inbox-list");
      var listAt = list ? list.dataset.renderedAt : "";
      state.cursor = minCursor(state.cursor, listAt);
      markActiveRow();
      sync("list", listAt);
    }
  });

  // Opening threads, the last one asked for wins: a slower answer for a row the agent already left
  // (j j, two clicks) is neither drawn over the newer thread nor pushed into the history.
  var threadAsked = null;

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "thread-pane") threadAsked = event.detail.xhr;
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "thread-pane" && threadAsked && event.detail.xhr !== threadAsked) {
      event.detail.shouldSwap = false;
    }
  });

  function markActiveRow() {
    var thread = openThread();
    var activeId = thread ? "conv-" + thread.dataset.conversationId : "";
    document.querySelectorAll("#inbox-list > .conv-row").forEach(function (row) {
      var active = row.id === activeId;
      row.classList.toggle("is-active", active);
      var link = row.querySelector(".conv-link");
      if (!link) return;
      if (active) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }

  // --- The thread: stick to the bottom, keep the place when older messages load ----------------------

  var scroll = { atBottom: true, older: null };

  function scroller() {
    return byId("thread-scroller");
  }

  function scrollToBottom() {
    var el = scroller();
    if (el) el.scrollTop = el.scrollHeight;
    scroll.atBottom = true;
    var jump = byId("jump-latest");
    if (jump) jump.hidden = true;
  }

  function prepareThread() {
    var el = scroller();
    if (!el) return;
    // Opened from a search: at the matching message (static/js/triage.js marks it), not at the bottom.
    var hit = openThread() && byId("msg-" + openThread().dataset.searchHit);
    if (hit) {
      hit.classList.add("is-search-hit");
      hit.scrollIntoView({ block: "center" });
      scroll.atBottom = false;
    } else {
      scrollToBottom();
    }
    el.addEventListener("scroll", function () {
      scroll.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      var jump = byId("jump-latest");
      if (jump && scroll.atBottom) jump.hidden = true;
    });
    observeThreadSize();
    var count = el.querySelectorAll("[data-message-id]").length;
    scroll.count = count;
    applyWindow();
    updateCounter();
  }

  var afterChangeQueued = false;

  function scheduleAfterChange() {
    if (afterChangeQueued) return;
    afterChangeQueued = true;
    requestAnimationFrame(function () {
      afterChangeQueued = false;
      afterLiveChange();
    });
  }

  // Images, players and fonts change the height as they load: stay at the bottom if we were there.
  function observeThreadSize() {
    var el = scroller();
    var list = el && el.querySelector(".thread-messages");
    if (!list || !window.ResizeObserver || scroll.observed === list) return;
    if (scroll.resizer) scroll.resizer.disconnect();
    scroll.resizer = new ResizeObserver(function () {
      if (scroll.atBottom && scroller()) scroller().scrollTop = scroller().scrollHeight;
    });
    scroll.resizer.observe(list);
    scroll.observed = list;
  }

  function afterLiveChange() {
    observeThreadSize(); // a resync may have replaced the whole list of messages
    var el = scroller();
    if (el) {
      var count = el.querySelectorAll("[data-message-id]").length;
      if (count !== scroll.count) {
        scroll.count = count;
        if (scroll.atBottom) scrollToBottom();
        else if (byId("jump-latest")) byId("jump-latest").hidden = false;
      }
    }
    applyWindow();
    maybeMarkRead();
    formatTimes(document);
  }

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id && target.id.indexOf("thread-older-") === 0 && scroller()) {
      scroll.older = { height: scroller().scrollHeight, top: scroller().scrollTop };
    }
  });

  document.body.addEventListener("htmx:afterSettle", function () {
    var el = scroller();
    if (el && scroll.older) {
      el.scrollTop = scroll.older.top + (el.scrollHeight - scroll.older.height);
      scroll.older = null;
      scroll.count = el.querySelectorAll("[data-message-id]").length;
    }
  });

  document.body.addEventListener("click", function (event) {
    if (event.target.closest("#jump-latest")) scrollToBottom();
  });

  // Read while looking: a message that arrives in the open thread of a visible tab is read.
  function maybeMarkRead() {
    var thread = openThread();
    if (!thread || document.visibilityState !== "visible") return;
    if (state.leaving === thread.dataset.conversationId) return; // just marked unread on purpose
    var row = byId("conv-" + thread.dataset.conversationId);
    if (!row || Number(row.dataset.unread) <= 0) return;
    clearTimeout(state.markReadTimer);
    state.markReadTimer = setTimeout(function () {
      var current = openThread();
      if (!current || current !== thread) return;
      htmx.ajax("POST", "/conversations/" + thread.dataset.conversationId + "/read/", {
        source: thread,
        swap: "none",
      });
    }, 600);
  }

  document.addEventListener("visibilitychange", maybeMarkRead);

  // --- The composer ------------------------------------------------------------------------------------

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function composerText() {
    return document.querySelector("#composer textarea[name=text]");
  }

  // `cause` says which check of this file wrote the sentence ("length", "media"); a refusal from the
  // server replaces the box and has none.
  function showComposerError(message, cause) {
    var thread = openThread();
    var box = thread && byId("composer-error-" + thread.dataset.conversationId);
    if (!box) return;
    box.textContent = message;
    box.dataset.cause = (message && cause) || "";
  }

  // An error goes once what it was about has changed, so none is left over a composer it no longer
  // describes: a check's own sentence when its field changes (`changed` is its cause), and anything
  // but the length when another file is chosen (the server refuses a file by naming it).
  function dropComposerError(changed) {
    var thread = openThread();
    var box = thread && byId("composer-error-" + thread.dataset.conversationId);
    if (!box || !box.textContent) return;
    var cause = box.dataset.cause || "";
    if (changed === "file" ? cause !== "length" : cause === changed) showComposerError("");
  }

  function overLimit() {
    var form = byId("composer");
    var max = form ? Number(form.dataset.maxLength) || 0 : 0;
    return !!max && composerText().value.length > max;
  }

  function updateCounter() {
    var form = byId("composer");
    var text = composerText();
    if (!form || !text) return;
    var max = Number(form.dataset.maxLength) || 0;
    var counter = form.querySelector("[data-role=counter]");
    var length = text.value.length;
    if (counter) {
      counter.textContent = interpolate(gettext("%(length)s / %(max)s"), { length: length, max: max }, true);
      counter.classList.toggle("is-over", max && length > max);
    }
    // Grow with the text, up to a limit (CSS caps the height).
    text.style.height = "auto";
    text.style.height = Math.min(text.scrollHeight + 2, 220) + "px";
  }

  document.addEventListener("input", function (event) {
    if (event.target === composerText()) {
      updateCounter();
      if (!overLimit()) dropComposerError("length");
    } else if (event.target.matches && event.target.matches("#composer [name=media_url]")) {
      dropComposerError("media");
    }
  });

  document.addEventListener("keydown", function (event) {
    var text = composerText();
    if (event.target !== text || event.key !== "Enter") return;
    if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    event.preventDefault();
    var form = byId("composer");
    var media = form.querySelector("[name=media_url]");
    var file = form.querySelector("[data-role=file]");
    if (text.value.trim() || (media && media.value.trim()) || (file && file.files.length)) form.requestSubmit();
  });

  // Filters: only what differs from the defaults goes in the request, so the pushed URL stays short.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "inbox-filters") return;
    var params = event.detail.parameters;
    ["q", "application", "kind", "status", "assigned"].forEach(function (name) {
      if (params[name] === "" || (name === "assigned" && params[name] === "all")) delete params[name];
    });
    // Which filters the tabs' counts shown were counted under: when the new ones count the same (a
    // search term typed), the answer leaves the counts out (conversations/views/inbox.py home).
    var counted = byId("view-unread");
    if (counted && counted.dataset.counted) event.detail.headers["X-Hubdash-Counted"] = counted.dataset.counted;
  });

  // Check the channel's limits before anything leaves the browser, with a sentence that says why.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || (form.id !== "composer" && form.id !== "template-form")) return;
    if (form.id === "composer") {
      var text = composerText();
      var media = form.querySelector("[name=media_url]");
      var max = Number(form.dataset.maxLength) || 0;
      var hasMedia = media && media.value.trim();
      var chosen = form.querySelector("[data-role=file]");
      if (!text.value.trim() && !hasMedia && !(chosen && chosen.files.length)) {
        event.preventDefault();
        return;
      }
      if (overLimit()) {
        event.preventDefault();
        showComposerError(
          interpolate(
            ngettext(
              "This reply is %(length)s character long; %(channel)s allows at most %(max)s. Shorten it or split it in two.",
              "This reply is %(length)s characters long; %(channel)s allows at most %(max)s. Shorten it or split it in two.",
              text.value.length
            ),
            { length: text.value.length, channel: form.dataset.kindLabel, max: max },
            true
          ),
          "length"
        );
        return;
      }
      if (hasMedia && !/^https?:\/\/\S+$/i.test(media.value.trim())) {
        event.preventDefault();
        showComposerError(gettext("The attachment must be a public link starting with https:// (or http://)."), "media");
        return;
      }
    }
    showComposerError("");
  });

  // The reply leaves: clear the box at once and give the form a new key, so the next reply is a new
  // message. Should the request fail, the text and ITS key come back, so sending again cannot duplicate.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.querySelector && form.querySelector("[data-action=mark-unread]")) {
      var thread = openThread();
      state.leaving = thread ? thread.dataset.conversationId : null;
    }
    if (!form || (form.id !== "composer" && form.id !== "template-form")) return;
    var key = form.querySelector("[data-role=idempotency-key]");
    var saved = { key: key.value, values: {} };
    form.querySelectorAll("textarea, input[type=text], input[type=url], input[name=reply_to], select").forEach(function (field) {
      saved.values[field.name + "#" + (field.id || "")] = field.value;
    });
    var fileInput = form.querySelector("[data-role=file]");
    if (fileInput && fileInput.files.length) {
      // A copy: clearing the field below empties the FileList it returned, not only the field.
      var copy = new DataTransfer();
      Array.prototype.forEach.call(fileInput.files, function (file) { copy.items.add(file); });
      saved.files = copy.files;
    }
    form._pending = saved;
    if (form.id === "composer") {
      if (fileInput) {
        fileInput.value = "";
        showFile(null);
      }
      composerText().value = "";
      var media = form.querySelector("[name=media_url]");
      if (media) media.value = "";
      var attach = form.querySelector(".composer-attach");
      if (attach) attach.open = false;
      var quoted = form.querySelector("[data-role=quote]");
      if (quoted) {
        quoted.hidden = true; // the reply_to value itself is restored below should the send fail
        quoted.querySelector("[name=reply_to]").value = "";
      }
      updateCounter();
      scrollToBottom();
    } else {
      form.reset();
    }
    key.value = newKey(); // after reset(), so nothing can bring the used key back
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form._pending) return;
    var saved = form._pending;
    form._pending = null;
    var xhr = event.detail.xhr;
    if (!event.detail.failed && xhr && xhr.status < 400) {
      if (form.id === "template-form") showTemplateVariables(); // sent: the reset picker shows no fields
      return;
    }
    form.querySelector("[data-role=idempotency-key]").value = saved.key;
    form.querySelectorAll("textarea, input[type=text], input[type=url], input[name=reply_to], select").forEach(function (field) {
      var value = saved.values[field.name + "#" + (field.id || "")];
      if (value !== undefined && !field.value) field.value = value;
    });
    if (form.id === "template-form") renderTemplatePreview();
    var fileBack = form.querySelector("[data-role=file]");
    if (fileBack && saved.files && !fileBack.files.length) {
      fileBack.files = saved.files;
      showFile(saved.files[0]);
    }
    var quoteBox = form.querySelector("[data-role=quote]");
    if (quoteBox && quoteBox.querySelector("[name=reply_to]").value) quoteBox.hidden = false;
    if (!xhr || !xhr.status) showComposerError(gettext("Not sent: the server could not be reached. Press Enter to try again."));
    updateCounter();
  });

  document.body.addEventListener("htmx:sendError", function (event) {
    var form = event.detail.elt;
    if (form && (form.id === "composer" || form.id === "template-form")) {
      showComposerError(gettext("Not sent: the server could not be reached. Press Enter to try again."));
    }
  });

  // --- The template picker: search by name, a field per variable, a live preview ---------------------------
  // The templates' text comes from the channel's library (json_script "template-library"); the preview is
  // built with textContent only, so nothing of a template or a variable is ever read as markup.

  function templateLibrary() {
    var data = byId("template-library");
    return data ? JSON.parse(data.textContent) : {};
  }

  function renderTemplatePreview() {
    var form = byId("template-form");
    var pick = byId("template-pick");
    if (!form || !pick) return;
    var chosen = templateLibrary()[pick.value];
    var preview = form.querySelector("[data-role=template-preview]");
    preview.hidden = !chosen;
    preview.textContent = "";
    if (!chosen) return;
    var values = {};
    form.querySelectorAll("[data-role=template-vars] input").forEach(function (input, index) {
      values[String(index + 1)] = input.value;
    });
    function fill(text) {
      return (text || "").replace(/\{\{\s*(\d+)\s*\}\}/g, function (whole, n) {
        return values[n] ? values[n] : whole;
      });
    }
    [["header", fill(chosen.header)], ["body", fill(chosen.body)], ["footer", chosen.footer]].forEach(function (part) {
      if (!part[1]) return;
      var line = document.createElement("p");
      line.className = "template-preview-" + part[0];
      line.textContent = part[1];
      preview.appendChild(line);
    });
    (chosen.buttons || []).forEach(function (label) {
      var chip = document.createElement("span");
      chip.className = "option-chip";
      chip.textContent = label;
      preview.appendChild(chip);
    });
  }

  function showTemplateVariables() {
    var form = byId("template-form");
    var pick = byId("template-pick");
    if (!form || !pick) return;
    var box = form.querySelector("[data-role=template-vars]");
    var chosen = templateLibrary()[pick.value];
    box.textContent = "";
    for (var n = 1; chosen && n <= chosen.variables; n++) {
      var label = document.createElement("label");
      label.htmlFor = "template-param-" + n;
      label.textContent = interpolate(gettext("Variable %(placeholder)s"), { placeholder: "{{" + n + "}}" }, true);
      var input = document.createElement("input");
      input.type = "text";
      input.id = "template-param-" + n;
      input.name = "template_params";
      input.required = true; // the form is not sent until every variable is filled
      input.autocomplete = "off";
      box.appendChild(label);
      box.appendChild(input);
    }
    renderTemplatePreview();
  }

  document.body.addEventListener("change", function (event) {
    if (event.target.id === "template-pick") showTemplateVariables();
  });

  document.body.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#template-form [data-role=template-vars]")) {
      renderTemplatePreview();
    } else if (event.target.id === "template-search") {
      var term = event.target.value.trim().toLowerCase();
      byId("template-pick").querySelectorAll("option[value]").forEach(function (option) {
        if (option.value) option.hidden = term !== "" && option.textContent.toLowerCase().indexOf(term) < 0;
      });
      byId("template-pick").querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
    }
  });

  // --- Attachments: the file button, drag and drop, paste; an image shows a thumbnail before sending -------
  // The file rides in the reply form itself (multipart): the server stores it, then stores the reply.

  // A file's size as the browser words it in the page's language ("80 bytes", "1,5 MB"), as Django's
  // filesizeformat would: no catalog entry needed, and a small file is not rounded up to "1 kB".
  function fileSize(bytes) {
    var lang = document.documentElement.lang || undefined;
    var units = [["byte", 1], ["kilobyte", 1024], ["megabyte", 1024 * 1024], ["gigabyte", 1024 * 1024 * 1024]];
    var i = 0;
    while (i < units.length - 1 && bytes >= units[i + 1][1]) i++;
    var value = bytes / units[i][1];
    return new Intl.NumberFormat(lang, {
      style: "unit",
      unit: units[i][0],
      unitDisplay: i === 0 ? "long" : "short",
      maximumFractionDigits: i === 0 ? 0 : 1,
    }).format(value);
  }

  function showFile(file) {
    var box = document.querySelector("#composer [data-role=file-preview]");
    if (!box) return;
    var thumb = box.querySelector("[data-role=file-thumb]");
    box.hidden = !file;
    thumb.hidden = true;
    thumb.removeAttribute("src");
    box.querySelector("[data-role=file-name]").textContent = file
      ? file.name + " (" + fileSize(file.size) + ")"
      : "";
    if (file && /^image\//.test(file.type)) {
      var reader = new FileReader(); // a data: URL, which the page's Content-Security-Policy allows
      reader.onload = function () {
        thumb.src = reader.result;
        thumb.hidden = false;
      };
      reader.readAsDataURL(file);
    }
  }

  function attachFiles(files) {
    var input = document.querySelector("#composer [data-role=file]");
    if (!input || !files || !files.length) return false;
    var transfer = new DataTransfer();
    transfer.items.add(files[0]); // one file per reply: the Hub takes one media URL per message
    input.files = transfer.files;
    showFile(files[0]);
    dropComposerError("file");
    return true;
  }

  document.body.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("#composer [data-role=file]")) {
      showFile(event.target.files[0] || null);
      dropComposerError("file");
    }
  });

  document.body.addEventListener("dragover", function (event) {
    if (event.target.closest && event.target.closest("#composer-area") && byId("composer")) {
      event.preventDefault();
      byId("composer-area").classList.add("is-dropping");
    }
  });

  document.body.addEventListener("dragleave", function (event) {
    var area = byId("composer-area");
    if (area && !area.contains(event.relatedTarget)) area.classList.remove("is-dropping");
  });

  document.body.addEventListener("drop", function (event) {
    var area = event.target.closest && event.target.closest("#composer-area");
    if (!area) return;
    event.preventDefault();
    area.classList.remove("is-dropping");
    if (attachFiles(event.dataTransfer && event.dataTransfer.files)) composerText().focus();
  });

  document.body.addEventListener("paste", function (event) {
    if (event.target !== composerText()) return;
    var files = event.clipboardData && event.clipboardData.files;
    if (files && files.length && attachFiles(files)) event.preventDefault();
  });

  // --- The service window: countdown, and free text off when it closes ----------------------------------

  var templateChosen = false;

  function humanDuration(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return interpolate(gettext("%(days)s d %(hours)s h"), { days: days, hours: hours }, true);
    if (hours) return interpolate(gettext("%(hours)s h %(minutes)s min"), { hours: hours, minutes: mins }, true);
    return interpolate(gettext("%(minutes)s min"), { minutes: mins }, true);
  }

  function applyWindow() {
    var thread = openThread();
    if (!thread) return;
    var box = byId("window-state-" + thread.dataset.conversationId);
    var fields = byId("composer-fields");
    var templateForm = byId("template-form");
    var windowed = box && box.dataset.windowed === "true";
    var open = true;
    if (windowed) {
      var closes = Date.parse(box.dataset.closesAt || "");
      var left = closes - (Date.now() + state.skew);
      open = box.dataset.open === "true" && left > 0;
      var countdown = box.querySelector(".window-countdown");
      if (countdown && open) countdown.textContent = humanDuration(left);
      box.classList.toggle("is-closed", !open);
      var openMsg = box.querySelector(".window-open-msg");
      var closedMsg = box.querySelector(".window-closed-msg");
      if (openMsg) openMsg.hidden = !open;
      if (closedMsg) closedMsg.hidden = open;
    }
    if (fields) fields.disabled = !open;
    var text = composerText();
    if (text) {
      text.placeholder = open
        ? gettext("Reply… (Enter to send, Shift+Enter for a new line)")
        : gettext("Free text is disabled: the window is closed");
    }
    if (templateForm) {
      templateForm.hidden = open && !templateChosen;
      var back = templateForm.querySelector("[data-action=hide-template]");
      if (back) back.hidden = !open;
    }
    var show = document.querySelector("#composer [data-action=show-template]");
    if (show) show.hidden = !open || templateChosen;
  }

  setInterval(applyWindow, 15000);

  document.body.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    var action = button.dataset.action;
    if (action === "show-template" || action === "hide-template") {
      templateChosen = action === "show-template";
      applyWindow();
      if (templateChosen && byId("template-pick")) byId("template-pick").focus();
      else if (composerText()) composerText().focus();
    } else if (action === "shortcuts") {
      openDialog("shortcuts-dialog");
    } else if (action === "remove-file") {
      var fileField = document.querySelector("#composer [data-role=file]");
      if (fileField) fileField.value = "";
      showFile(null);
      dropComposerError("file");
    } else if (action === "quote" || action === "unquote") {
      // Reply to one message: its id goes with the reply (`reply_to`), its preview shows above the box.
      var quote = document.querySelector("#composer [data-role=quote]");
      if (!quote) return;
      var quoting = action === "quote";
      quote.querySelector("[name=reply_to]").value = quoting ? button.dataset.quoteId : "";
      quote.querySelector("[data-role=quote-preview]").textContent = quoting ? button.dataset.preview || "" : "";
      quote.hidden = !quoting;
      if (composerText()) composerText().focus();
    } else if (action === "edit-resend") {
      // A reply refused for its content: its text (and link) back in the composer, to change and send.
      templateChosen = false;
      applyWindow();
      var box = composerText();
      if (!box) return;
      box.value = button.dataset.text || "";
      var mediaUrl = document.querySelector("#composer [name=media_url]");
      if (mediaUrl && button.dataset.mediaUrl) {
        mediaUrl.value = button.dataset.mediaUrl;
        mediaUrl.closest("details").open = true;
      }
      updateCounter();
      box.focus();
    }
  });

  // --- A customer's media, loaded only when the agent asks ------------------------------------------------
  // The bubble names the host and carries the URL in data-media-url (escaped by the template); nothing is
  // fetched before this click, so the sender's server cannot learn when a thread was opened. Every label
  // comes from the bubble's data attributes, rendered (and translated) by the server.

  function loadableMediaUrl(box) {
    var url;
    try {
      url = new URL(box.dataset.mediaUrl || "");
    } catch (error) {
      return null;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    // The host the agent was shown must be the one contacted (the server refuses ambiguous URLs already).
    return url.host === box.dataset.mediaHost ? url.href : null;
  }

  function mediaElement(kind, href, box) {
    var label = box.dataset.mediaLabel || "";
    if (kind === "video" || kind === "audio") {
      var media = document.createElement(kind);
      media.controls = true;
      media.preload = "metadata";
      media.setAttribute("referrerpolicy", "no-referrer"); // not honoured by media; the page sends same-origin only
      media.setAttribute("aria-label", label);
      media.src = href;
      if (kind === "video") {
        media.className = "msg-video";
        return { root: media, focus: media };
      }
      var wrap = document.createElement("div");
      wrap.className = "msg-audio";
      if (box.dataset.mediaVoice) {
        var voice = document.createElement("span");
        voice.className = "muted";
        voice.textContent = box.dataset.mediaVoice;
        wrap.appendChild(voice);
      }
      wrap.appendChild(media);
      return { root: wrap, focus: media };
    }
    var link = document.createElement("a");
    link.className = "msg-media-link";
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    link.referrerPolicy = "no-referrer";
    var img = document.createElement("img");
    img.className = kind === "sticker" ? "msg-image msg-sticker" : "msg-image";
    img.alt = label;
    img.referrerPolicy = "no-referrer";
    img.src = href;
    link.appendChild(img);
    return { root: link, focus: link };
  }

  // A bubble's React menu stays open through its redraws while the agent is choosing (keepOpen); it
  // closes as the thread's other menus do, on a choice, Esc or a click outside (static/js/triage.js).

  // What the agent chose to load in this tab ("message id url"): a redraw of that bubble (a live frame, the
  // resync after opening the thread) shows it again instead of asking a second time.
  var mediaShown = {};

  function mediaKey(box) {
    var message = box.closest("[data-message-id]");
    return message ? message.dataset.messageId + " " + (box.dataset.mediaUrl || "") : "";
  }

  function showMedia(box, focus) {
    var href = loadableMediaUrl(box);
    if (!href) return false;
    var shown = mediaElement(box.dataset.mediaKind, href, box);
    box.replaceWith(shown.root);
    if (focus) shown.focus.focus(); // the button is gone: keep keyboard focus in the bubble
    return true;
  }

  function keepShownMedia() {
    document.querySelectorAll("#thread .msg-media-deferred").forEach(function (box) {
      if (mediaShown[mediaKey(box)]) showMedia(box, false);
    });
  }

  document.body.addEventListener("htmx:wsAfterMessage", keepShownMedia);
  document.body.addEventListener("htmx:afterSettle", keepShownMedia);

  document.body.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action=load-media]");
    var box = button && button.closest(".msg-media-deferred");
    if (!box) return;
    var key = mediaKey(box);
    if (!showMedia(box, true)) {
      button.disabled = true;
      return;
    }
    if (key) mediaShown[key] = true;
  });

  // --- Dialogs: shortcuts and a reply's status history ---------------------------------------------------

  function openDialog(id) {
    var dialog = byId(id);
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "timeline-body") openDialog("timeline-dialog");
  });

  // --- Keyboard ---------------------------------------------------------------------------------------------

  function moveSelection(delta) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#inbox-list > .conv-row"));
    if (!rows.length) return;
    var current = rows.findIndex(function (row) { return row.classList.contains("is-active"); });
    var next = current < 0 ? (delta > 0 ? 0 : rows.length - 1) : current + delta;
    if (next < 0 || next >= rows.length) return;
    var row = rows[next];
    rows.forEach(function (r) { r.classList.toggle("is-active", r === row); });
    row.scrollIntoView({ block: "nearest" });
    var link = row.querySelector(".conv-link");
    if (link) {
      link.focus({ preventScroll: true });
      link.click();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    if (event.key === "Escape" && typing) {
      target.blur();
      return;
    }
    if (typing || document.querySelector("dialog[open]")) return;
    switch (event.key) {
      case "j":
        moveSelection(1);
        break;
      case "k":
        moveSelection(-1);
        break;
      case "r": {
        var text = composerText();
        if (text && !text.disabled) text.focus();
        else if (byId("template-pick") && !byId("template-form").hidden) byId("template-pick").focus();
        else return;
        break;
      }
      case "e": {
        var button = document.querySelector(".thread-header [data-action=resolve], .thread-header [data-action=reopen]");
        if (!button) return;
        button.click();
        break;
      }
      case "/": {
        var search = byId("inbox-search");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "?":
        openDialog("shortcuts-dialog");
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  // --- Times in the viewer's time zone ------------------------------------------------------------------------

  // The user's language and time zone (their profile's, which the server drew the page in), not the
  // browser's: the inbox, the thread, the review and the CSV all show one time.
  var root = document.documentElement;
  var zone = root.dataset.timeZone || undefined;
  var language = root.lang || undefined;
  function intl(options) {
    try {
      return new Intl.DateTimeFormat(language, Object.assign({ timeZone: zone }, options));
    } catch (error) { // a zone this browser does not know: its own
      return new Intl.DateTimeFormat(language, options);
    }
  }
  var timeFormat = intl({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var dayFormat = intl({ weekday: "short" });
  var dateFormat = intl({ day: "numeric", month: "short" });
  // Minutes, not seconds: an agent reads "snoozed until 09:00", not "09:00:00".
  var fullFormat = intl({ dateStyle: "medium", timeStyle: "short" });
  // Only a reply's status history keeps the seconds: its statuses land seconds apart.
  var preciseFormat = intl({ dateStyle: "medium", timeStyle: "medium" });
  var dayKey = intl({ year: "numeric", month: "2-digit", day: "2-digit", calendar: "gregory", numberingSystem: "latn" });

  // An instant's calendar day in the user's zone, as a day number: two instants are on the same day,
  // or one day apart, when their numbers are.
  function dayIndex(when) {
    var parts = {};
    dayKey.formatToParts(when).forEach(function (part) { parts[part.type] = part.value; });
    return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)) / 86400000;
  }

  // For static/js/triage.js: the thread's day separators count days as the times here are shown.
  window.HubdashTimes = { intl: intl, dayIndex: dayIndex };

  function formatTimes(root) {
    (root || document).querySelectorAll("time[data-format]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var style = el.dataset.format;
      var full = el.closest("#timeline-dialog") ? preciseFormat : fullFormat;
      var text;
      if (style === "time") text = timeFormat.format(when);
      else if (style === "datetime") text = full.format(when);
      else {
        var days = dayIndex(new Date()) - dayIndex(when);
        text = days <= 0 ? timeFormat.format(when) : days === 1 ? gettext("Yesterday") : days < 7 ? dayFormat.format(when) : dateFormat.format(when);
      }
      if (el.textContent !== text) el.textContent = text;
      el.title = full.format(when);
    });
  }

  // A first-response target's pill (inbox_row.html) carries its due time and when it is at risk: the
  // row is drawn once and cached, so the clock, not the server, turns it orange and then red.
  function flagTargets(root) {
    var now = Date.now();
    (root || document).querySelectorAll("[data-sla-due]").forEach(function (pill) {
      var due = Date.parse(pill.dataset.slaDue);
      var risk = Date.parse(pill.dataset.slaRisk);
      var state = now >= due ? "bad" : now >= risk ? "warn" : "";
      pill.classList.toggle("bad", state === "bad");
      pill.classList.toggle("warn", state === "warn");
      pill.title = state === "bad" ? gettext("First-response target breached") : state === "warn" ? gettext("First-response target about to breach") : "";
      pill.dataset.slaState = state || "ok";
    });
  }

  // The tab's title names the open thread's contact (inbox.html draws it for a full page; opening
  // another thread or renaming the contact swaps only parts of the page).
  var TITLE_SUFFIX = gettext("Inbox") + " · Hubdash";
  function syncTitle() {
    var name = byId("thread-title");
    // The unread count goes first (static/js/triage.js keeps it current).
    var unread = window.HubdashTriage ? window.HubdashTriage.titlePrefix() : "";
    var title = unread + (name ? name.textContent.trim() + " · " : "") + TITLE_SUFFIX;
    if (document.title !== title) document.title = title;
  }

  htmx.onLoad(function (element) {
    formatTimes(element);
    flagTargets(element);
    syncTitle();
  });
  setInterval(function () {
    formatTimes(document);
  }, 60000);
  setInterval(function () {
    flagTargets(document);
  }, 15000);

  // --- Start --------------------------------------------------------------------------------------------------

  // Deferred scripts run before htmx processes the page, so this lands before the "load older" sentinel
  // is observed: a thread opens at its newest message without loading older ones first.
  prepareThread();
  formatTimes(document);
  flagTargets(document);
  // For static/js/teamwork.js: messages to the server on this tab's socket (presence), and the
  // composer's error box, which the note shares with the reply.
  window.hubdashInbox = {
    send: sendJson,
    showError: function (message) { showComposerError(message); },
    clearError: function () { showComposerError(""); },
  };
})();
