// The chat's page behaviour, on top of htmx and its ws and sse extensions:
// resuming a room's socket (or, where sockets do not get through, its event
// stream) where the page left off, loading older entries, following the
// conversation, typing signals, drafts and the compose field's keys. No
// build.
(function () {
  "use strict";

  var KEEP_ENTRIES = 400;   // entries kept in the page while following live
  var TYPING_EVERY = 2000;  // ms between typing signals sent
  var TYPING_SHOWN = 5000;  // ms a typing mark stays without a new signal

  var socket = null;        // the room's current WebSocket
  var lastTypingSent = 0;
  // The room's change counter (edits, deletes, reactions) as of the last
  // change the socket brought: a reconnect asks for the changes after it.
  var seenRev = 0;

  // ---- Words ----------------------------------------------------------------
  //
  // What the script shows or says is in the page's language (<html lang>):
  // the server puts the script's messages in a JSON block (#chat-words),
  // each by its key without "script.", a plain message as a string, one
  // that depends on a count as an object of its CLDR forms ("one",
  // "many", "other", …). Values stand in them as {{.Name}}.

  var pageLang = document.documentElement.lang || "en";
  var wordsRead = null;
  var pluralRules = null;

  function words() {
    if (wordsRead) return wordsRead;
    var block = document.getElementById("chat-words");
    try { wordsRead = block ? JSON.parse(block.textContent) || {} : {}; } catch (err) { wordsRead = {}; }
    return wordsRead;
  }

  function pluralOf(n) {
    if (!pluralRules) {
      try { pluralRules = new Intl.PluralRules(pageLang); } catch (err) { pluralRules = new Intl.PluralRules("en"); }
    }
    return pluralRules.select(n);
  }

  // say is the message of key with its values filled in: say("files.count",
  // {Count: 3}). A message with forms takes the one values.Count asks for;
  // a key without a message shows as the server shows one, ⟦key⟧.
  function say(key, values) {
    var w = words()[key];
    if (w && typeof w === "object") w = w[pluralOf(values && values.Count)] || w.other;
    if (typeof w !== "string") return "⟦script." + key + "⟧";
    return w.replace(/\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : "⟦." + name + "⟧";
    });
  }

  // Dates and times are written in the page's language, the reader's own
  // variety of it when their browser asks for one (es-MX, en-GB).
  function dateLocales() {
    var base = pageLang.toLowerCase().split("-")[0];
    var asked = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    return asked.filter(function (l) { return l && l.toLowerCase().split("-")[0] === base; }).concat([pageLang]);
  }

  function dateFormat(options) {
    try { return new Intl.DateTimeFormat(dateLocales(), options); } catch (err) { return new Intl.DateTimeFormat(pageLang, options); }
  }

  function upperFirst(s) {
    return s.charAt(0).toLocaleUpperCase(pageLang) + s.slice(1);
  }

  function messages() { return document.getElementById("messages"); }
  function scroller() { return document.getElementById("scroller"); }

  function entryId(el) {
    var m = /^msg-(\d+)$/.exec(el && el.id || "");
    return m ? parseInt(m[1], 10) : 0;
  }

  function lastEntryId() {
    var list = messages();
    if (!list) return 0;
    for (var el = list.lastElementChild; el; el = el.previousElementSibling) {
      var id = entryId(el);
      if (id) return id;
    }
    return 0;
  }

  function firstEntryId() {
    var list = messages();
    if (!list) return 0;
    for (var el = list.firstElementChild; el; el = el.nextElementSibling) {
      var id = entryId(el);
      if (id) return id;
    }
    return 0;
  }

  // Every (re)connect asks for the entries after the last one the page
  // holds, so that nothing posted while it was away is missed.
  function installSocketFactory() {
    var make = htmx.createWebSocket;
    htmx.createWebSocket = function (url) {
      var u = new URL(url, location.href);
      u.searchParams.set("after", String(lastEntryId()));
      u.searchParams.set("rev", String(seenRev));
      socket = make(u.toString());
      return socket;
    };
  }

  // ---- Following the conversation -------------------------------------

  var atBottom = true;

  function nearBottom(sc) { return sc.scrollHeight - sc.scrollTop - sc.clientHeight < 80; }

  function scrollToBottom() {
    var sc = scroller();
    if (sc) sc.scrollTop = sc.scrollHeight;
    atBottom = true;
    var jump = document.getElementById("jump");
    if (jump) jump.hidden = true;
  }

  function onScroll() {
    var sc = scroller();
    if (!sc) return;
    atBottom = nearBottom(sc);
    if (atBottom) {
      var jump = document.getElementById("jump");
      if (jump) jump.hidden = true;
    }
  }

  // Entries appended live: follow them at the bottom, else offer a jump.
  function entriesAdded(nodes) {
    var sc = scroller();
    var mineAdded = false;
    nodes.forEach(function (n) {
      if (n.nodeType !== 1) return;
      localTimes(n);
      var author = n.getAttribute("data-author");
      if (author) clearTyping(author);
      if (author && author === document.body.getAttribute("data-viewer")) mineAdded = true;
    });
    if (!sc) return;
    if (atBottom || mineAdded) {
      scrollToBottom();
      trim();
    } else {
      var jump = document.getElementById("jump");
      if (jump) jump.hidden = false;
    }
  }

  // Keep the page bounded in a long session: drop the oldest entries while
  // the reader is at the bottom, and let scrolling up load them again.
  function trim() {
    var list = messages();
    if (!list || list.children.length <= KEEP_ENTRIES) return;
    while (list.children.length > KEEP_ENTRIES) {
      homeIfInside(list.firstElementChild);
      list.removeChild(list.firstElementChild);
    }
    var top = document.getElementById("history-more");
    if (top && !top.hasAttribute("hx-get")) {
      var room = document.querySelector("[data-room]");
      var more = document.createElement("div");
      more.id = "history-more";
      more.className = "history-more";
      more.textContent = say("history.loading");
      more.setAttribute("hx-get", "/rooms/" + room.getAttribute("data-room") + "/messages");
      more.setAttribute("hx-trigger", "intersect root:#scroller");
      more.setAttribute("hx-target", "#messages");
      more.setAttribute("hx-swap", "afterbegin show:none");
      more.setAttribute("hx-sync", "this:drop");
      top.replaceWith(more);
      htmx.process(more);
    }
  }

  // Consecutive posts by one author within a few minutes read as one
  // group: only the first shows the avatar and name.
  var GROUP_WITHIN = 5 * 60 * 1000;

  function regroup() {
    var list = messages();
    if (!list) return;
    days(list);
    var prev = null;
    for (var el = list.firstElementChild; el; el = el.nextElementSibling) {
      var cont = false;
      if (prev && el.getAttribute("data-kind") === "post" && prev.getAttribute("data-kind") === "post" &&
          el.getAttribute("data-author") === prev.getAttribute("data-author")) {
        var a = prev.querySelector("time"), b = el.querySelector("time");
        cont = a && b && (new Date(b.getAttribute("datetime")) - new Date(a.getAttribute("datetime"))) < GROUP_WITHIN;
      }
      if (cont) el.setAttribute("data-cont", "");
      else el.removeAttribute("data-cont");
      prev = el;
    }
  }

  // ---- Days ---------------------------------------------------------------
  // The server puts a divider before each day's first entry, by its own
  // clock (UTC). Here the days are the reader's: a divider goes before each
  // entry whose day (in the reader's zone) is not the one before it, and
  // says "Today", "Yesterday" (the catalog's words) or the date, in the
  // page's language. Only what differs is changed, so that running it
  // again changes nothing.

  var dayName = dateFormat({ weekday: "long", day: "numeric", month: "long" });
  var dayNameYear = dateFormat({ weekday: "long", day: "numeric", month: "long", year: "numeric" });

  function isoDay(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  function entryDay(el) {
    var t = el.querySelector(".permalink time[datetime]");
    var d = t && new Date(t.getAttribute("datetime"));
    return d && !isNaN(d) ? d : null;
  }

  function dayLabel(d) {
    var today = new Date();
    var start = new Date(today.getFullYear(), today.getMonth(), today.getDate());
    var ago = Math.round((start - new Date(d.getFullYear(), d.getMonth(), d.getDate())) / 86400000);
    if (ago === 0) return say("day.today");
    if (ago === 1) return say("day.yesterday");
    // A heading: "Jueves, 26 de noviembre" where the language writes
    // "jueves".
    return upperFirst((d.getFullYear() === today.getFullYear() ? dayName : dayNameYear).format(d));
  }

  function divider(day, d) {
    var li = document.createElement("li");
    li.className = "day-divider";
    var t = document.createElement("time");
    t.setAttribute("datetime", day);
    t.textContent = dayLabel(d);
    li.appendChild(t);
    return li;
  }

  function days(list) {
    var el, next;
    // A divider that starts no day any more (nothing after it, or another
    // divider) goes.
    for (el = list.firstElementChild; el; el = next) {
      next = el.nextElementSibling;
      if (el.classList.contains("day-divider") && (!next || next.classList.contains("day-divider"))) list.removeChild(el);
    }
    var prevDay = null;
    for (el = list.firstElementChild; el; el = el.nextElementSibling) {
      if (!entryId(el)) continue;
      var d = entryDay(el);
      if (!d) continue;
      var day = isoDay(d);
      var before = el.previousElementSibling;
      var has = before && before.classList.contains("day-divider") ? before : null;
      if (day === prevDay) {
        if (has) list.removeChild(has);
      } else if (!has) {
        list.insertBefore(divider(day, d), el);
      } else {
        var t = has.querySelector("time");
        var label = dayLabel(d);
        if (!t || t.getAttribute("datetime") !== day || t.textContent !== label) has.replaceWith(divider(day, d));
      }
      prevDay = day;
    }
  }

  // ---- Older entries ---------------------------------------------------

  var keepPlace = null;

  document.addEventListener("htmx:configRequest", function (e) {
    if (e.detail.elt && e.detail.elt.id === "history-more") {
      var first = firstEntryId();
      if (!first) { e.preventDefault(); return; }
      e.detail.parameters.before = String(first);
    }
    if (e.detail.elt && e.detail.elt.id === "history-newer") {
      e.detail.parameters.after = String(lastEntryId());
    }
  });

  // The reader's place is kept by an entry, not by a distance from the
  // bottom: the entry first in the list before the load is where it was
  // on the screen after it, once what was loaded is grouped and divided
  // into days (which changes its height).
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.requestConfig && e.detail.requestConfig.elt && e.detail.requestConfig.elt.id === "history-more") {
      var list = messages();
      var el = list && list.firstElementChild;
      while (el && !entryId(el)) el = el.nextElementSibling;
      keepPlace = el ? { el: el, top: el.getBoundingClientRect().top } : null;
    }
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    var cfg = e.detail.requestConfig;
    if (!cfg || !cfg.elt || cfg.elt.id !== "history-more") return;
    localTimes(messages());
    regroup();
    var xhr = e.detail.xhr;
    if (xhr && xhr.getResponseHeader("X-History-End") === "true") {
      var start = document.createElement("p");
      start.id = "history-more";
      start.className = "history-start";
      start.textContent = say("history.start");
      cfg.elt.replaceWith(start);
    }
    var sc = scroller(), keep = keepPlace;
    keepPlace = null;
    if (sc && keep && keep.el.isConnected) sc.scrollTop += keep.el.getBoundingClientRect().top - keep.top;
  });

  // ---- Typing ------------------------------------------------------------

  function clearTyping(user) {
    document.querySelectorAll("#typing .typing-user").forEach(function (el) {
      if (el.getAttribute("data-user") === user) el.remove();
    });
  }

  function typingAdded(el) {
    var user = el.getAttribute("data-user");
    document.querySelectorAll("#typing .typing-user").forEach(function (other) {
      if (other !== el && other.getAttribute("data-user") === user) other.remove();
    });
    setTimeout(function () { el.remove(); }, TYPING_SHOWN);
  }

  function sendTyping() {
    var now = Date.now();
    if (now - lastTypingSent < TYPING_EVERY) return;
    if (socketOpen()) {
      lastTypingSent = now;
      socket.send(JSON.stringify({ typing: true }));
    } else if (streamOpen) {
      // No socket: a small POST says it.
      var room = document.querySelector("[data-room]");
      if (!room) return;
      lastTypingSent = now;
      fetch("/rooms/" + room.getAttribute("data-room") + "/typing", { method: "POST", credentials: "same-origin" }).catch(function () {});
    }
  }

  // ---- Times in the reader's own zone -----------------------------------

  var timeFormat = dateFormat({ hour: "numeric", minute: "2-digit" });
  var longFormat = dateFormat({ dateStyle: "full", timeStyle: "short" });

  function localTimes(root) {
    if (!root || !root.querySelectorAll) return;
    var list = root.matches && root.matches("time[datetime]") ? [root] : root.querySelectorAll("time[datetime]");
    list.forEach(function (t) {
      if (t.hasAttribute("data-local") || t.closest(".day-divider")) return;
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      t.textContent = timeFormat.format(d);
      t.title = longFormat.format(d);
      t.setAttribute("data-local", "");
    });
  }

  // ---- The compose field --------------------------------------------------

  var composeHadFocus = false;

  // The field grows with its text; the conversation above it shrinks, and
  // a reader at its bottom stays there.
  function grow(area) {
    var stay = atBottom;
    area.style.height = "auto";
    area.style.height = Math.min(area.scrollHeight + 2, 192) + "px";
    if (stay && scroller()) scrollToBottom();
  }

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLTextAreaElement) || t.name !== "text" || !t.form || t.form.id !== "compose") return;
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (t.value.trim() !== "") t.form.requestSubmit();
    }
  });

  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLTextAreaElement) || !t.form || t.form.id !== "compose") return;
    grow(t);
    if (t.value.trim() !== "") sendTyping();
    saveDraft();
  });

  // ---- Sends that survive a dropped connection ---------------------------
  //
  // Each draft gets an id of the page's making, sent with it: a send that
  // is repeated (after a reconnect, or a double press) lands once. The form
  // shows the send as pending until the server says it is stored (a fresh
  // form), or refused (an error, with a retry).

  function newClientId() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  function setPending(form, status) {
    var out = form.querySelector(".compose-status");
    if (status) form.setAttribute("data-pending", "");
    else form.removeAttribute("data-pending");
    if (out) out.textContent = status || "";
  }

  function clientIdOf(form) {
    var hidden = form.querySelector('input[name="client_id"]');
    if (!hidden) return "";
    if (!hidden.value) hidden.value = newClientId();
    return hidden.value;
  }

  // sending marks the form's draft as sent by way of via: "open" over
  // the socket, "http" by hx-post.
  function sending(form, via) {
    var area = form.querySelector("textarea");
    form.setAttribute("data-pending-text", area ? area.value : "");
    form.setAttribute("data-sent", via);
    // Sent over HTTP with nothing live, it is tried, but likely waits.
    setPending(form, say(via === "open" || streamOpen ? "compose.sending" : "compose.waiting"));
    saveDraft();
  }

  // The compose form sends over the socket when one is open (ws-send,
  // whose handler takes the form's submit), else with htmx to its hx-post
  // address, the entry then coming back over the stream like everyone's.
  document.addEventListener("htmx:wsConfigSend", function (e) {
    var form = e.target;
    if (!form || form.id !== "compose") return;
    if (!socketOpen()) {
      e.preventDefault();
      // A failure is handled by the events (htmx:sendError, queued).
      htmx.ajax("POST", form.getAttribute("hx-post"), { source: form, swap: "none" }).catch(function () {});
      return;
    }
    e.detail.parameters.client_id = clientIdOf(form);
    sending(form, "open");
  });

  document.addEventListener("htmx:configRequest", function (e) {
    var form = e.detail.elt;
    if (!form || form.id !== "compose" || e.detail.verb !== "post") return;
    e.detail.parameters.client_id = clientIdOf(form);
    sending(form, "http");
  });

  // A send over HTTP that got no answer, or one from a server on its way
  // down, is kept and tried again.
  function queued(form) {
    if (!form || form.id !== "compose" || !form.hasAttribute("data-pending")) return;
    form.setAttribute("data-sent", "queued");
    setPending(form, say("compose.waiting"));
    saveDraft();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(resend, RESEND_EVERY);
  }
  var RESEND_EVERY = 3000;
  var retryTimer = 0;
  document.addEventListener("htmx:sendError", function (e) { queued(e.detail.elt); });
  document.addEventListener("htmx:responseError", function (e) {
    if (e.detail.xhr && e.detail.xhr.status >= 500) queued(e.detail.elt);
  });

  // resend sends again what is pending but not on its way over HTTP: a
  // send queued, or one that went out on a socket that then dropped (it
  // may or may not have landed; its id makes it land once).
  function resend() {
    var form = document.getElementById("compose");
    if (form && form.hasAttribute("data-pending") && form.getAttribute("data-sent") !== "http") {
      form.requestSubmit();
    }
  }

  document.addEventListener("input", function (e) {
    var form = e.target.form;
    if (!form || form.id !== "compose" || !form.hasAttribute("data-pending")) return;
    // An edited draft is another post: it gets an id of its own.
    if (e.target.value !== form.getAttribute("data-pending-text")) {
      var hidden = form.querySelector('input[name="client_id"]');
      if (hidden) hidden.value = newClientId();
    }
  });


  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var target = e.detail.target;
    if (!target) return;
    if (target.id === "compose") {
      composeHadFocus = document.activeElement && document.activeElement.form && document.activeElement.form.id === "compose";
      // The post is stored. If the field holds a new draft by now, keep it
      // rather than clear it with the fresh form.
      var area = target.querySelector("textarea");
      if (area && area.value !== "" && area.value !== target.getAttribute("data-pending-text")) {
        e.detail.shouldSwap = false;
        setPending(target, "");
        var hidden = target.querySelector('input[name="client_id"]');
        if (hidden) hidden.value = "";
        var err = document.getElementById("compose-error");
        if (err) { err.hidden = true; err.textContent = ""; }
        saveDraft();
      }
    }
    if (target.id === "compose-error") {
      // Refused: the draft stays, no longer pending.
      var form = document.getElementById("compose");
      if (form) setPending(form, "");
      saveDraft();
    }
  });

  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var target = e.detail.target;
    if (!target) return;
    if (target.id === "compose") {
      var area = document.querySelector("#compose textarea");
      if (area && composeHadFocus) area.focus();
      composeReady();
      saveDraft();
    }
    // The whole history was replaced (the page had fallen far behind): the
    // old list is gone from the page, a new one stands in its place.
    if (target.id === "messages" && !document.body.contains(target)) {
      localTimes(messages());
      scrollToBottom();
    }
  });

  // ---- The connection ------------------------------------------------------
  //
  // The page follows its room (or, on other pages, the user's own events)
  // over the WebSocket htmx opens. Where none gets through (none open
  // within SOCKET_WAIT, or two failures in a row before one opens), it
  // follows the event stream instead, and the ws extension goes on trying
  // the socket now and then: once one opens, the stream is closed. The dot
  // in the top bar says which is in use.

  var SOCKET_WAIT = 4000;   // ms a socket has to open before the stream
  var socketFails = 0;      // sockets failed since one was last open
  var stream = null;        // the room's EventSource, while on the stream
  var streamElt = null;     // the element htmx's sse extension follows it on
  var streamOpen = false;
  var everLive = false;     // a socket or stream has been open
  var streamFailed = false; // the stream has failed since it last opened

  function socketOpen() { return !!socket && socket.readyState === WebSocket.OPEN; }

  function liveElt() { return document.querySelector("[ws-connect]"); }

  function banner(show) {
    // Who is online is not known while the connection is down.
    var room = document.querySelector(".room");
    if (room) room.toggleAttribute("data-offline", !!show);
    var b = document.getElementById("offline");
    if (show && !b) {
      b = document.createElement("div");
      b.id = "offline";
      b.className = "offline-banner";
      b.setAttribute("role", "status");
      b.textContent = say("connection.lost");
      var conv = document.querySelector(".conversation");
      if (conv) conv.prepend(b);
    } else if (!show && b) {
      b.remove();
    }
  }

  var TRANSPORT_TITLES = {
    ws: "connection.ws",
    sse: "connection.sse",
    none: "connection.connecting"
  };

  function showTransport() {
    var t = socketOpen() ? "ws" : streamOpen ? "sse" : "none";
    var dot = document.getElementById("conn");
    if (!dot && liveElt()) {
      var bar = document.querySelector(".topbar .brand");
      if (bar) {
        dot = document.createElement("span");
        dot.id = "conn";
        dot.className = "conn-dot";
        dot.setAttribute("role", "img");
        bar.after(dot);
      }
    }
    if (dot) {
      dot.setAttribute("data-transport", t);
      var title = say(t === "none" && everLive ? "connection.offline" : TRANSPORT_TITLES[t]);
      dot.title = title;
      dot.setAttribute("aria-label", title);
    }
    banner(t === "none" && (everLive || streamFailed));
  }

  // Each stream asks for what came after the last entry the page holds,
  // as the socket does; the browser's own reconnects send Last-Event-ID,
  // which the server prefers.
  function installStreamFactory() {
    htmx.createEventSource = function (url) {
      var u = new URL(url, location.href);
      if (messages()) {
        u.searchParams.set("after", String(lastEntryId()));
        u.searchParams.set("rev", String(seenRev));
      }
      var es = new EventSource(u.toString());
      if (!streamElt || !streamElt.isConnected) {
        // A late retry of a stream the page has left for a socket.
        es.close();
        return es;
      }
      stream = es;
      es.addEventListener("open", function () {
        if (stream !== es) return;
        streamOpen = true;
        everLive = true;
        streamFailed = false;
        showTransport();
        resend();
      });
      es.addEventListener("error", function () {
        if (stream !== es) return;
        streamOpen = false;
        streamFailed = true;
        showTransport();
      });
      es.addEventListener("close", function (e) {
        // Signed out elsewhere: this page's session is gone.
        if (e.data === "1008") location.assign("/login");
      });
      return es;
    };
  }

  function startStream() {
    var live = liveElt();
    if (streamElt || socketOpen() || !live || typeof htmx.createEventSource !== "function") return;
    streamElt = document.createElement("div");
    streamElt.id = "live-stream";
    streamElt.hidden = true;
    streamElt.setAttribute("hx-ext", "sse");
    streamElt.setAttribute("sse-connect", live.getAttribute("ws-connect").replace(/\/ws$/, "/events"));
    streamElt.setAttribute("sse-swap", "message");
    streamElt.setAttribute("hx-swap", "none");
    live.appendChild(streamElt);
    htmx.process(streamElt);
  }

  function stopStream() {
    if (stream) stream.close();
    stream = null;
    streamOpen = false;
    if (streamElt) streamElt.remove();
    streamElt = null;
  }

  // An event of the stream is what a socket frame is: every top-level
  // element swapped out of band, by its hx-swap-oob or in place of the
  // element with its id, as the ws extension does.
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    if (!streamElt || e.target !== streamElt) return;
    e.preventDefault();
    var html = e.detail && e.detail.data;
    if (typeof html !== "string") return;
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    Array.prototype.forEach.call(tpl.content.children, function (el) {
      if (!el.hasAttribute("hx-swap-oob")) el.setAttribute("hx-swap-oob", "true");
    });
    htmx.swap(streamElt, tpl.innerHTML, { swapStyle: "none" });
    noteRevs(html);
  });

  document.addEventListener("htmx:wsConnecting", function () {
    setTimeout(function () { if (!socketOpen()) startStream(); }, SOCKET_WAIT);
  });
  document.addEventListener("htmx:wsOpen", function () {
    socketFails = 0;
    everLive = true;
    stopStream();
    showTransport();
    resend();
  });
  document.addEventListener("htmx:wsClose", function (e) {
    var code = e.detail && e.detail.event && e.detail.event.code;
    if (code === 1008) {
      // Signed out elsewhere: this page's session is gone.
      location.assign("/login");
      return;
    }
    if (++socketFails >= 2) startStream();
    showTransport();
  });

  // An entry the page holds already is not added again: at the moment the
  // page goes from the stream to a socket, both may bring it.
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var target = e.detail.target, frag = e.detail.fragment;
    if (!target || target.id !== "messages" || !frag || !frag.children) return;
    Array.prototype.slice.call(frag.children).forEach(function (el) {
      if (/^msg-\d+$/.test(el.id) && document.getElementById(el.id)) el.remove();
    });
  });

  // ---- Drafts --------------------------------------------------------------
  //
  // The compose field's text is kept in the page's storage, per room, until
  // it is sent: a reload, or a send made while nothing got through, loses
  // nothing. A send still pending is kept with its id, and tried again.

  function draftKey() {
    var room = document.querySelector("[data-room]");
    return room ? "chat-draft:" + room.getAttribute("data-room") : null;
  }

  function saveDraft() {
    var key = draftKey(), form = document.getElementById("compose");
    var area = form && form.querySelector("textarea");
    if (!key || !area) return;
    try {
      if (area.value === "") {
        localStorage.removeItem(key);
        return;
      }
      var pending = form.hasAttribute("data-pending");
      var hidden = form.querySelector('input[name="client_id"]');
      localStorage.setItem(key, JSON.stringify({
        text: area.value,
        pending: pending,
        clientId: pending && hidden ? hidden.value : ""
      }));
    } catch (err) { /* storage full or refused: the draft lives in the page */ }
  }

  function restoreDraft() {
    var key = draftKey(), form = document.getElementById("compose");
    var area = form && form.querySelector("textarea");
    // A form the server sent back with text (a refused post) has its own.
    if (!key || !area || area.value !== "") return;
    var d = null;
    try { d = JSON.parse(localStorage.getItem(key) || "null"); } catch (err) { d = null; }
    if (!d || typeof d.text !== "string" || d.text === "") return;
    area.value = d.text;
    var hidden = form.querySelector('input[name="client_id"]');
    if (d.pending && d.clientId && hidden && form.hasAttribute("hx-post")) {
      hidden.value = d.clientId;
      form.setAttribute("data-pending-text", d.text);
      form.setAttribute("data-pending", "");
      queued(form);
    }
  }

  // A plain form (a permalink page's) leaves the page as it posts: its
  // draft is sent.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form && form.id === "compose" && !form.hasAttribute("hx-post") && !e.defaultPrevented) {
      try { localStorage.removeItem(draftKey()); } catch (err) { /* nothing kept */ }
    }
  });

  // The compose field as scripts make it: what it offers with them.
  function composeReady() {
    var area = document.querySelector("#compose[ws-send] textarea");
    // The hint fits a wide screen; on a phone it would take a second line.
    if (area && window.matchMedia("(min-width: 721px)").matches) area.placeholder = say("compose.placeholder");
  }

  // ---- Edits, deletes and reactions --------------------------------------
  //
  // A changed entry comes as a whole element with the entry's id (or its
  // .boosts part), carrying data-rev, the room's change counter: from the
  // socket, and in answer to the reader's own change. An answer can arrive
  // after a newer change from the socket; an older rev never replaces a
  // newer one.

  function revOf(el) {
    if (!el || !el.getAttribute) return -1;
    var v = el.getAttribute("data-rev");
    return v === null ? -1 : parseInt(v, 10) || 0;
  }

  function firstElement(frag) {
    if (!frag) return null;
    return frag.nodeType === 11 ? frag.firstElementChild : frag;
  }

  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var target = e.detail.target, incoming = firstElement(e.detail.fragment);
    if (!target || !incoming) return;
    if (incoming.id === target.id && revOf(target) > revOf(incoming) && revOf(incoming) >= 0) {
      e.detail.shouldSwap = false;
    }
  });

  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (!target || !elt) return;
    // A refused edit or reaction comes back as the form again, with why.
    var status = e.detail.xhr && e.detail.xhr.status;
    if ((status === 422 || status === 409 || status === 429) && elt.closest && elt.closest(".entry, .picker") ||
        (status === 403 || status === 422 || status === 429) && elt.id === "compose") {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
      return;
    }
    var m = /data-rev="(\d+)"/.exec(e.detail.serverResponse || "");
    if (m && revOf(target) > parseInt(m[1], 10)) e.detail.shouldSwap = false;
  });

  function noteRevs(text) {
    if (typeof text !== "string" || text.indexOf("data-rev") < 0) return;
    var re = /data-rev="(\d+)"/g, m;
    while ((m = re.exec(text))) seenRev = Math.max(seenRev, parseInt(m[1], 10) || 0);
  }
  document.addEventListener("htmx:wsAfterMessage", function (e) { noteRevs(e.detail && e.detail.message); });

  document.addEventListener("htmx:afterSwap", function (e) {
    var t = e.detail.target;
    if (t && t.closest && t.closest("#messages")) localTimes(messages());
    // An edit form opened: its field takes the focus, the caret at the end.
    var area = t && t.querySelector ? (t.matches && t.matches(".edit-form") ? t : t.querySelector(".edit-form")) : null;
    if (area) {
      var field = area.querySelector("textarea");
      if (field) { field.focus(); field.setSelectionRange(field.value.length, field.value.length); }
    }
  });

  // A changed entry swapped in: its time in the reader's zone.
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var t = e.detail.target;
    if (t && /^msg-\d+$/.test(t.id)) localTimes(document.getElementById(t.id));
  });

  // A reaction given: the picker closes.
  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail.elt;
    var picker = elt && elt.closest && elt.closest(".picker");
    if (picker && e.detail.successful) picker.textContent = "";
  });

  // ---- The toolbar of a post ---------------------------------------------
  //
  // The page holds one toolbar; it moves into the post under the pointer
  // or the focus (so that the keyboard reaches it next), marked with the
  // post's author, which viewer.css reads to show edit and delete. Before
  // htmx replaces a post, it goes home.

  function toolbar() { return document.getElementById("entry-toolbar"); }

  function toolbarHome() {
    var bar = toolbar(), home = document.getElementById("toolbar-home");
    if (bar && home && bar.parentNode !== home) home.appendChild(bar);
  }

  function toolbarTo(entry) {
    var bar = toolbar();
    if (!bar || !entry || bar.parentNode === entry) return;
    bar.setAttribute("data-author", entry.getAttribute("data-author") || "");
    entry.appendChild(bar);
  }

  function postOf(el) {
    var entry = el && el.closest ? el.closest("#messages > .entry-post") : null;
    return entry && !entry.querySelector(".edit-form") ? entry : null;
  }

  ["mouseover", "focusin", "click"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var entry = postOf(e.target);
      if (entry) toolbarTo(entry);
    });
  });

  function homeIfInside(target) {
    var bar = toolbar();
    if (bar && target && target.contains && target.contains(bar)) toolbarHome();
  }
  document.addEventListener("htmx:beforeSwap", function (e) { homeIfInside(e.detail.target); });
  document.addEventListener("htmx:oobBeforeSwap", function (e) { homeIfInside(e.detail.target); });

  function pickerOf(entry) {
    var id = entryId(entry);
    var picker = document.getElementById("picker-" + id);
    if (!picker) {
      picker = document.createElement("div");
      picker.id = "picker-" + id;
      picker.className = "picker";
      var bubble = entry.querySelector(".bubble");
      if (bubble) bubble.appendChild(picker);
    }
    return picker;
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("#entry-toolbar [data-act]");
    if (!button) return;
    var entry = button.closest(".entry-post");
    var id = entryId(entry);
    if (!id) return;
    var url = "/messages/" + id;
    switch (button.getAttribute("data-act")) {
      case "react":
        var picker = pickerOf(entry);
        // The button opens the picker, and closes it when open.
        if (picker.firstElementChild) { picker.textContent = ""; return; }
        htmx.ajax("GET", url + "/react", { target: picker, swap: "innerHTML" });
        break;
      case "edit":
        toolbarHome();
        htmx.ajax("GET", url + "/edit", { target: entry.querySelector(".text"), swap: "outerHTML" });
        break;
      case "delete":
        if (!confirm(say("entry.delete_confirm"))) return;
        htmx.ajax("POST", url + "/delete", { target: entry, swap: "outerHTML" });
        break;
    }
  });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLTextAreaElement) || !t.form || !t.form.classList.contains("edit-form")) return;
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (t.value.trim() !== "") t.form.requestSubmit();
    } else if (e.key === "Escape") {
      var cancel = t.form.querySelector("a[hx-get]");
      if (cancel) cancel.click();
    }
  });

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll(".picker").forEach(function (p) { p.textContent = ""; });
  });

  // A failed request of htmx says why, for a moment.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    // A send the server could not take now is tried again (queued).
    if (e.detail.elt && e.detail.elt.id === "compose" && xhr && xhr.status >= 500) return;
    var box = document.createElement("div");
    box.innerHTML = xhr && xhr.responseText ? xhr.responseText : "";
    var msg = box.querySelector("[data-kind=error]");
    var toast = document.createElement("p");
    toast.className = "toast";
    toast.setAttribute("role", "alert");
    toast.textContent = msg ? msg.textContent.trim() : say("error.failed");
    document.body.appendChild(toast);
    setTimeout(function () { toast.remove(); }, 6000);
  });

  // ---- Mentions --------------------------------------------------------
  //
  // "@" and the start of a name before the caret asks the server for the
  // room's members that match; the arrow keys move through them, Enter or
  // Tab takes one, Escape closes the list.

  var MENTION_BEFORE = /(^|[^\w@])@([A-Za-z0-9_.\-]{0,32})$/;
  var mentionTimer = 0;

  function mentionBox() { return document.getElementById("mention-box"); }

  function mentionQuery(area) {
    var m = MENTION_BEFORE.exec(area.value.slice(0, area.selectionStart));
    return m ? m[2] : null;
  }

  function closeMentions() {
    var box = mentionBox();
    if (box) box.textContent = "";
  }

  function mentionOptions() {
    var box = mentionBox();
    return box ? Array.prototype.slice.call(box.querySelectorAll("[role=option]")) : [];
  }

  function moveMention(step) {
    var opts = mentionOptions();
    if (!opts.length) return;
    var at = opts.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
    var next = (at + step + opts.length) % opts.length;
    opts.forEach(function (o, i) { o.setAttribute("aria-selected", i === next ? "true" : "false"); });
    var area = document.querySelector("#compose textarea");
    if (area) area.setAttribute("aria-activedescendant", opts[next].id);
  }

  function takeMention(name) {
    var area = document.querySelector("#compose textarea");
    if (!area) return;
    var before = area.value.slice(0, area.selectionStart), after = area.value.slice(area.selectionEnd);
    var m = MENTION_BEFORE.exec(before);
    if (!m) return;
    var start = before.length - m[2].length;
    area.value = before.slice(0, start) + name + " " + after;
    var caret = start + name.length + 1;
    area.setSelectionRange(caret, caret);
    area.focus();
    closeMentions();
  }

  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLTextAreaElement) || !t.form || t.form.id !== "compose") return;
    var q = mentionQuery(t);
    clearTimeout(mentionTimer);
    if (q === null) { closeMentions(); return; }
    var room = document.querySelector("[data-room]");
    if (!room) return;
    mentionTimer = setTimeout(function () {
      htmx.ajax("GET", "/rooms/" + room.getAttribute("data-room") + "/mentions?q=" + encodeURIComponent(q),
        { target: "#mention-box", swap: "innerHTML" });
    }, 120);
  });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLTextAreaElement) || !t.form || t.form.id !== "compose") return;
    if (!mentionOptions().length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      moveMention(e.key === "ArrowDown" ? 1 : -1);
    } else if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && !e.isComposing) {
      var chosen = mentionBox().querySelector("[aria-selected=true]");
      if (!chosen) return;
      // Before the compose field's own Enter, which would send.
      e.preventDefault();
      e.stopImmediatePropagation();
      takeMention(chosen.getAttribute("data-name"));
    } else if (e.key === "Escape") {
      closeMentions();
    }
  }, true);

  document.addEventListener("click", function (e) {
    var opt = e.target.closest && e.target.closest("#mention-box [role=option]");
    if (opt) { e.preventDefault(); takeMention(opt.getAttribute("data-name")); return; }
    if (!e.target.closest || !e.target.closest("#mention-box")) closeMentions();
  });

  // ---- Leaving the page ----------------------------------------------------
  //
  // A browser may keep a page it leaves in its back-forward cache, socket
  // and all: the server would go on counting its reader as present in the
  // room (online, seeing every entry). The socket closes when the page is
  // hidden that way, and a page brought back is loaded afresh.

  window.addEventListener("pagehide", function (e) {
    if (e.persisted && socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, "page left");
    if (e.persisted && stream) stream.close();
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && (socket || stream)) location.reload();
  });

  // ---- Unread counts, the title and notifications --------------------------
  //
  // The room list's counts are the server's, on the page and in each push
  // of a room's link; the tab's title adds them up. A notice the server
  // pushes to this user's pages is a post that matches their level for its
  // room (the server decides, per user): while the page is hidden, it is
  // shown as a browser notification, which opens the post's permalink,
  // with a short sound if the user's setting (body[data-sound]) says so.
  // The permission is asked for on a click of "Enable notifications" only.

  var TITLE_COUNT = /^\(\d+\+?\) /;

  function newSinceLine() { return document.getElementById("new-since"); }

  // The page opens at the line above the first entry not seen, not at the
  // bottom; the pin (ResizeObserver) holds the bottom only for a reader
  // who is there.
  function openAtNewSince(sc, line) {
    line.scrollIntoView({ block: "start" });
    atBottom = nearBottom(sc);
  }

  function showUnreadTotal() {
    var total = 0;
    document.querySelectorAll(".sidebar a[data-count]").forEach(function (a) {
      total += parseInt(a.getAttribute("data-count"), 10) || 0;
    });
    var base = document.title.replace(TITLE_COUNT, "");
    var title = total > 0 ? "(" + (total > 99 ? "99+" : total) + ") " + base : base;
    if (document.title !== title) document.title = title;
  }

  var audio = null;

  // A page may start sound only after the user did something on it.
  function unlockAudio() {
    if (audio || !document.body.hasAttribute("data-sound")) return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx) audio = new Ctx();
  }

  // A short falling two-tone chime, made here.
  function chime() {
    if (!audio) return;
    if (audio.state === "suspended") audio.resume();
    var t = audio.currentTime;
    [[880, 0], [660, 0.12]].forEach(function (n) {
      var o = audio.createOscillator(), g = audio.createGain();
      o.type = "sine";
      o.frequency.setValueAtTime(n[0], t + n[1]);
      g.gain.setValueAtTime(0.0001, t + n[1]);
      g.gain.exponentialRampToValueAtTime(0.15, t + n[1] + 0.01);
      g.gain.exponentialRampToValueAtTime(0.0001, t + n[1] + 0.25);
      o.connect(g);
      g.connect(audio.destination);
      o.start(t + n[1]);
      o.stop(t + n[1] + 0.26);
    });
  }

  function showNotice(el) {
    el.remove();
    if (!document.hidden) return;
    var url = el.getAttribute("data-url");
    if (window.Notification && Notification.permission === "granted") {
      // One per post, however many of the user's pages are hidden.
      var n = new Notification(el.getAttribute("data-title") || say("notify.title"), {
        body: el.getAttribute("data-body") || "", tag: "chat-" + el.getAttribute("data-notice")
      });
      n.onclick = function () {
        window.focus();
        if (url) location.href = url;
        n.close();
      };
    }
    if (document.body.hasAttribute("data-sound")) chime();
  }

  function notifyControl() {
    var ask = !!window.Notification && Notification.permission === "default";
    document.querySelectorAll("[data-notify-enable]").forEach(function (b) { b.hidden = !ask; });
  }

  function startNotifications() {
    var sidebar = document.querySelector(".sidebar");
    if (sidebar) {
      new MutationObserver(showUnreadTotal).observe(sidebar, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-count"] });
    }
    showUnreadTotal();
    // The level's form, swapped in by htmx, brings a control of its own.
    document.addEventListener("htmx:afterSwap", notifyControl);
    var sink = document.getElementById("notify-sink");
    if (sink) {
      new MutationObserver(function () {
        sink.querySelectorAll("[data-notice]").forEach(showNotice);
      }).observe(sink, { childList: true, subtree: true });
    }
    notifyControl();
    document.addEventListener("click", function (e) {
      unlockAudio();
      var b = e.target.closest && e.target.closest("[data-notify-enable]");
      if (!b || !window.Notification) return;
      Notification.requestPermission().then(notifyControl);
    });
    document.addEventListener("keydown", unlockAudio);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startNotifications);
  else startNotifications();

  // ---- Start -------------------------------------------------------------

  // Before htmx opens the room's socket, which it does when the document
  // is ready: this script runs after htmx's, and before that moment.
  installSocketFactory();
  installStreamFactory();

  function start() {
    document.documentElement.classList.add("js");
    var list = messages();
    if (list) seenRev = parseInt(list.getAttribute("data-rev") || "0", 10) || 0;
    // Times, days and groups first: they change the entries' heights,
    // and the page opens at the bottom of what they make.
    localTimes(document.body);
    regroup();
    var sc = scroller();
    var target = document.querySelector("#messages [data-highlight]");
    var since = !target && newSinceLine();
    if (sc) {
      sc.addEventListener("scroll", onScroll, { passive: true });
      if (target) {
        target.scrollIntoView({ block: "center" });
        atBottom = nearBottom(sc);
      } else if (since) {
        openAtNewSince(sc, since);
      } else {
        scrollToBottom();
      }
      // A reader at the bottom stays there whatever changes the sizes
      // later: fonts and pictures arriving, the compose field growing, a
      // phone turning.
      if (window.ResizeObserver) {
        var pin = new ResizeObserver(function () { if (atBottom) scrollToBottom(); });
        pin.observe(sc);
        if (list) pin.observe(list);
      }
    }
    var jump = document.getElementById("jump");
    if (jump) jump.addEventListener("click", scrollToBottom);
    restoreDraft();
    composeReady();
    var area = document.querySelector("#compose textarea");
    if (area) grow(area);
    if (liveElt()) showTransport();

    var observer = new MutationObserver(function (records) {
      var appended = [];
      records.forEach(function (r) {
        if (r.target.id === "messages" && r.nextSibling === null && r.removedNodes.length === 0) {
          // Added at the end: live entries (older ones go at the start).
          r.addedNodes.forEach(function (n) { if (n.nodeType === 1) appended.push(n); });
        } else if (r.target.id === "typing") {
          r.addedNodes.forEach(function (n) { if (n.nodeType === 1 && n.classList.contains("typing-user")) typingAdded(n); });
        }
      });
      if (appended.length) entriesAdded(appended);
      if (records.some(function (r) { return r.target.id === "messages" || r.target.id === "scroller"; })) regroup();
    });
    observer.observe(document.body, { childList: true, subtree: true });
  }

  // ---- Said to screen readers; confirmations; copying -------------------

  // Only what arrives live is announced: #messages is no live region (its
  // history, loaded by scrolling, would be read out); each entry by
  // someone else appended at its end puts a short line in #announce, a
  // polite status region. A burst (a replay after a reconnect) is said as
  // a count.
  var ANNOUNCE_KEEP = 3;

  function entrySaying(el) {
    var who = el.getAttribute("data-author") || "";
    if (el.getAttribute("data-kind") === "post") {
      var text = el.querySelector(".text");
      var t = text ? text.textContent.replace(/\s+/g, " ").trim() : "";
      if (t.length > 140) t = t.slice(0, 139) + "…";
      return say("announce.post", { Name: who, Text: t });
    }
    var ev = el.querySelector(".event");
    return ev ? ev.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function announce(nodes) {
    var region = document.getElementById("announce");
    if (!region) return;
    var me = document.body.getAttribute("data-viewer");
    var said = nodes.filter(function (n) {
      return entryId(n) && n.getAttribute("data-author") !== me && n.getAttribute("data-kind") !== "deleted";
    }).map(entrySaying).filter(Boolean);
    if (!said.length) return;
    if (said.length > ANNOUNCE_KEEP) said = [say("announce.new", { Count: said.length })];
    said.forEach(function (s) {
      var p = document.createElement("p");
      p.textContent = s;
      region.appendChild(p);
    });
    while (region.children.length > ANNOUNCE_KEEP) region.removeChild(region.firstElementChild);
  }

  new MutationObserver(function (records) {
    var appended = [];
    records.forEach(function (r) {
      if (r.target.id === "messages" && r.nextSibling === null && r.removedNodes.length === 0) {
        r.addedNodes.forEach(function (n) { if (n.nodeType === 1) appended.push(n); });
      }
    });
    if (appended.length) announce(appended);
  }).observe(document.documentElement, { childList: true, subtree: true });

  // A link with data-confirm (an admin's deactivate, make admin) leads,
  // without script, to a page that asks; with it, the page's
  // #confirm-dialog asks, and its form posts to the link's data-action.
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[data-confirm]");
    var dialog = document.getElementById("confirm-dialog");
    if (!a || !dialog || typeof dialog.showModal !== "function" || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    dialog.querySelector(".confirm-question").textContent = a.getAttribute("data-confirm");
    dialog.querySelector(".confirm-detail").textContent = a.getAttribute("data-confirm-detail") || "";
    var form = dialog.querySelector("form.confirm-form");
    form.setAttribute("action", a.getAttribute("data-action"));
    var ok = form.querySelector("button[type=submit]");
    ok.textContent = a.getAttribute("data-confirm-button") || a.textContent;
    ok.classList.toggle("danger", a.classList.contains("danger"));
    dialog.showModal();
    var cancel = dialog.querySelector(".confirm-cancel");
    if (cancel) cancel.focus();
  });
  document.addEventListener("click", function (e) {
    var c = e.target.closest && e.target.closest("#confirm-dialog .confirm-cancel");
    if (c) { e.preventDefault(); document.getElementById("confirm-dialog").close(); }
  });

  // A button with data-copy copies the text of the element it names (an
  // invitation link, a bot's token, shown once) to the clipboard; where
  // the clipboard is refused, it selects the text for the reader to copy.
  // What happened is said in the button's status (role=status) beside it.
  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    if (!b) return;
    var src = document.querySelector(b.getAttribute("data-copy"));
    if (!src) return;
    var status = b.parentNode.querySelector(".copy-status");
    function show(s) { if (status) status.textContent = s; else b.textContent = s; }
    function fallback() {
      selectText(src);
      show(say("copy.selected"));
    }
    if (!navigator.clipboard || !navigator.clipboard.writeText) { fallback(); return; }
    navigator.clipboard.writeText(src.textContent.trim()).then(function () { show(say("copy.done")); }, fallback);
  });

  // Live room lists (frames of views/lists.templ): a room pushed again
  // comes in at the end of its list after its old items were emptied.
  // Here the emptied items go, the room list's hidden sink (the lobby's
  // items on pages without the lobby) is emptied, each list keeps the
  // order a reload gives (rooms by name in lower case, then id; direct
  // messages by name as written), and the page's own room stays marked
  // current.
  var ROOM_LISTS = "#room-list, #archived-list, #dm-list, #lobby-rooms, #lobby-archived";

  function roomListKey(li) {
    var n = li.querySelector("[data-room-name]");
    if (n) return n.textContent.normalize("NFC").toLowerCase();
    n = li.querySelector("[data-dm-name]");
    return n ? n.textContent : "";
  }

  function roomListOrder(a, b) {
    var ka = roomListKey(a), kb = roomListKey(b);
    if (ka !== kb) return ka < kb ? -1 : 1;
    return parseInt(a.getAttribute("data-room-item"), 10) - parseInt(b.getAttribute("data-room-item"), 10);
  }

  function tidyRoomLists() {
    var sink = document.getElementById("room-sink");
    if (sink && sink.firstChild) sink.textContent = "";
    var main = document.querySelector("main[data-room]");
    var current = main && main.getAttribute("data-room");
    document.querySelectorAll(ROOM_LISTS).forEach(function (list) {
      var items = [];
      Array.prototype.forEach.call(list.children, function (li) { items.push(li); });
      items = items.filter(function (li) {
        if (li.hasAttribute("data-room-item") && !li.firstElementChild) { li.remove(); return false; }
        return true;
      });
      var sorted = items.slice().sort(roomListOrder);
      if (sorted.some(function (li, i) { return li !== items[i]; })) {
        sorted.forEach(function (li) { list.appendChild(li); });
      }
      var link = current && list.querySelector("li[data-room-item='" + current + "'] > a.room-link:not(.current)");
      if (link) {
        link.classList.add("current");
        link.setAttribute("aria-current", "page");
      }
    });
  }

  function startRoomLists() {
    tidyRoomLists();
    new MutationObserver(function (records) {
      var touched = records.some(function (r) {
        var el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
        return el && el.closest && el.closest(ROOM_LISTS + ", #room-sink");
      });
      if (touched) tidyRoomLists();
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startRoomLists);
  else startRoomLists();

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  // ---- Keyboard ------------------------------------------------------------
  //
  // The message box has the focus when a room opens and after each send; a
  // skip link leads to it. The message list is one stop of the Tab key:
  // one entry at a time is tabbable (a roving tabindex), ↑ and ↓ (Home,
  // End) move between entries, Tab goes into the focused entry's own
  // controls (its time, its reactions, the toolbar; Enter goes to the
  // toolbar), Esc back to the entry. ✎ puts the caret at the end of the
  // edit box; Enter saves, Esc cancels, and the focus comes back to the
  // entry. ↑ in an empty message box edits the viewer's last post. Ctrl+K
  // (⌘+K) opens the quick switcher, whose matches the server renders.

  // htmx carries an element's style attribute over to the one with its id
  // that replaces it; the message box (with an id, for the skip link) has
  // a height set by script, and the policy refuses style attributes.
  htmx.config.attributesToSettle = ["class", "width", "height"];

  var rovingId = "";      // the entry that is the list's stop of Tab
  var editFromBox = 0;    // the post being edited from the message box's ↑
  var focusAfter = null;  // where the focus goes once a change has landed
  var switchReturn = null; // what had the focus before the switcher opened
  var switchAsked = null, switchShown = null; // the switcher's last query, asked and shown

  var CONTROLS = "a[href], button, input, select, textarea, summary";

  function entryOf(el) { return el && el.closest ? el.closest("#messages > .entry") : null; }

  function listEntries() {
    var list = messages();
    return list ? Array.prototype.filter.call(list.children, function (el) { return el.classList.contains("entry"); }) : [];
  }

  function composeBox() { return document.querySelector("#compose textarea[name=text]"); }

  function setTabindex(el, value) {
    if (value === null) { if (el.hasAttribute("tabindex")) el.removeAttribute("tabindex"); }
    else if (el.getAttribute("tabindex") !== value) el.setAttribute("tabindex", value);
  }

  // rove makes the roving entry (by default the latest) the list's one
  // stop, and the controls of the entry that holds the focus the only
  // ones Tab reaches inside the list.
  function rove() {
    var list = messages();
    if (!list) return;
    var all = listEntries();
    var at = rovingId && document.getElementById(rovingId);
    if (!at || at.parentNode !== list) {
      at = all.length ? all[all.length - 1] : null;
      rovingId = at ? at.id : "";
    }
    all.forEach(function (el) { setTabindex(el, el === at ? "0" : "-1"); });
    var open = entryOf(document.activeElement);
    list.querySelectorAll(CONTROLS).forEach(function (c) {
      setTabindex(c, open && open.contains(c) ? null : "-1");
    });
  }

  function focusEntry(el) {
    if (!el) return;
    rovingId = el.id;
    rove();
    el.focus();
  }

  function focusBox() {
    var box = composeBox();
    if (box) box.focus({ preventScroll: true });
  }

  // The focus lands where it is wanted once what was asked has been
  // swapped in, unless the reader has gone elsewhere meanwhile.
  function settleFocus() {
    if (!focusAfter) return;
    var want = focusAfter;
    var entry = document.getElementById(want.id);
    if (!entry || entry.querySelector(".edit-form") || (want.picker && entry.querySelector(".picker *"))) return;
    focusAfter = null;
    var here = document.activeElement;
    if (here && here !== document.body && !entry.contains(here)) return;
    if (want.box && composeBox()) focusBox();
    else focusEntry(entry);
  }

  // A new edit form (✎, ↑, or one sent back with why) takes the focus,
  // the caret at the end; a picker of reactions just opened, its first.
  function focusNew() {
    document.querySelectorAll("#messages .edit-form textarea:not([data-focused])").forEach(function (field) {
      field.setAttribute("data-focused", "");
      field.focus();
      field.setSelectionRange(field.value.length, field.value.length);
    });
    document.querySelectorAll("#messages .picker .boost-choice:not([data-focused])").forEach(function (b, i) {
      b.setAttribute("data-focused", "");
      var here = document.activeElement;
      if (i === 0 && (!here || here === document.body || entryOf(here) === entryOf(b))) b.focus();
    });
  }

  // Only once htmx has made what it swapped in work (its links and
  // forms), after the settling: a key pressed before would miss it.
  document.addEventListener("htmx:afterSettle", function () {
    focusNew();
    settleFocus();
  });

  function editPost(entry, fromBox) {
    var id = entryId(entry), text = entry && entry.querySelector(".text");
    if (!id || !text || entry.querySelector(".edit-form")) return;
    editFromBox = fromBox ? id : 0;
    homeIfInside(entry);
    htmx.ajax("GET", "/messages/" + id + "/edit", { target: text, swap: "outerHTML" });
  }

  function lastOwnPost() {
    var me = document.body.getAttribute("data-viewer");
    var posts = listEntries().filter(function (el) { return el.getAttribute("data-kind") === "post" && el.getAttribute("data-author") === me; });
    return posts.length ? posts[posts.length - 1] : null;
  }

  // Before a request from an edit form or a picker: the focus comes back
  // to the entry (or, for an edit begun in the message box and saved, to
  // the box) once the answer is in.
  // ✎ begins an edit of its own; the box's ↑ marks its own.
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest('#entry-toolbar [data-act="edit"]')) editFromBox = 0;
  }, true);

  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    var entry = entryOf(elt);
    if (!entry) return;
    if (elt.closest(".edit-form")) {
      var saved = (e.detail.requestConfig && e.detail.requestConfig.verb) === "post";
      focusAfter = { id: entry.id, box: saved && editFromBox === entryId(entry) };
    } else if (elt.closest(".picker")) {
      focusAfter = { id: entry.id, picker: true };
    }
  });

  document.addEventListener("focusin", function (e) {
    var entry = entryOf(e.target);
    if (entry) rovingId = entry.id;
    rove();
  });

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.altKey || e.isComposing) return;
    var t = e.target;
    // Ctrl+K, ⌘+K: the quick switcher, from anywhere.
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && (e.key === "k" || e.key === "K")) {
      if (openSwitcher()) e.preventDefault();
      return;
    }
    if (e.ctrlKey || e.metaKey) return;
    // ↑ in an empty message box: edit one's last post.
    if (e.key === "ArrowUp" && !e.shiftKey && t === composeBox() && t.value === "" && !(mentionBox() && mentionBox().firstElementChild)) {
      var mine = lastOwnPost();
      if (mine) { e.preventDefault(); editPost(mine, true); }
      return;
    }
    var entry = entryOf(t);
    if (!entry) return;
    if (t === entry) {
      var all = listEntries(), at = all.indexOf(entry), to = null;
      switch (e.key) {
        case "ArrowUp": to = all[Math.max(at - 1, 0)]; break;
        case "ArrowDown": to = all[Math.min(at + 1, all.length - 1)]; break;
        case "Home": to = all[0]; break;
        case "End": to = all[all.length - 1]; break;
        case "Enter":
          var visible = function (c) { return c.checkVisibility(); };
          var first = Array.prototype.find.call(entry.querySelectorAll("#entry-toolbar .act"), visible) ||
            Array.prototype.find.call(entry.querySelectorAll(CONTROLS), visible);
          if (first) { e.preventDefault(); first.focus(); }
          return;
        case "e":
          if (entry.querySelector('#entry-toolbar [data-act="edit"]') && entry.querySelector('#entry-toolbar [data-act="edit"]').checkVisibility()) {
            e.preventDefault();
            editPost(entry, false);
          }
          return;
        default: return;
      }
      e.preventDefault();
      focusEntry(to);
      return;
    }
    // In the toolbar, ← and → move between its buttons.
    if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && t.closest("#entry-toolbar")) {
      var acts = Array.prototype.filter.call(t.closest("#entry-toolbar").querySelectorAll(".act"), function (b) { return b.checkVisibility(); });
      var i = acts.indexOf(t) + (e.key === "ArrowRight" ? 1 : -1);
      if (acts[i]) { e.preventDefault(); acts[i].focus(); }
      return;
    }
    // Esc in an entry's controls: back to the entry (an edit form's Esc
    // cancels first, and the focus comes back once it has).
    if (e.key === "Escape" && !t.closest(".edit-form")) {
      e.preventDefault();
      focusEntry(entry);
    }
  });

  // The skip link focuses the message box without changing the address.
  document.addEventListener("click", function (e) {
    var skip = e.target.closest && e.target.closest(".skip-link");
    if (!skip || !composeBox()) return;
    e.preventDefault();
    focusBox();
  });

  // After a send (over the socket, the stream or plain HTTP, a fresh form
  // comes), the message box has the focus, unless the reader went
  // elsewhere.
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var t = e.detail.target;
    if (t && t.id === "compose" && (!document.activeElement || document.activeElement === document.body)) focusBox();
  });

  // ---- The quick switcher ----

  function switcher() { return document.getElementById("switcher"); }

  function switchChoices() {
    return Array.prototype.slice.call(document.querySelectorAll("#switcher-results .switch-go"));
  }

  function openSwitcher() {
    var d = switcher(), field = document.getElementById("switcher-q");
    if (!d || !field || typeof d.showModal !== "function") return false;
    if (!d.open) {
      switchReturn = document.activeElement;
      field.value = "";
      d.showModal();
      htmx.trigger(field, "search");
    }
    field.focus();
    return true;
  }

  document.addEventListener("click", function (e) {
    var open = e.target.closest && e.target.closest("a.switch-open");
    if (open && openSwitcher()) e.preventDefault();
  });

  document.addEventListener("htmx:configRequest", function (e) {
    if (e.detail.elt && e.detail.elt.id === "switcher-q") switchAsked = String(e.detail.parameters.q || "").trim();
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "switcher-results") switchShown = switchAsked;
  });

  document.addEventListener("keydown", function (e) {
    var d = switcher();
    if (!d || !d.open || !d.contains(e.target) || e.isComposing) return;
    var field = document.getElementById("switcher-q");
    var choices = switchChoices(), at = choices.indexOf(e.target);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      var next = e.target === field ? (e.key === "ArrowDown" ? 0 : choices.length - 1) : at + (e.key === "ArrowDown" ? 1 : -1);
      if (next < 0 || next >= choices.length) field.focus();
      else choices[next].focus();
    } else if (e.key === "Enter" && e.target === field) {
      // The matches shown are this query's: the first is where Enter
      // goes. Otherwise the form asks for them as a page.
      if (switchShown === field.value.trim() && choices.length) {
        e.preventDefault();
        choices[0].click();
      }
    }
  });

  document.addEventListener("close", function (e) {
    if (e.target !== switcher()) return;
    var back = switchReturn;
    switchReturn = null;
    if (back && back.isConnected && back !== document.body) back.focus();
    else focusBox();
  }, true);

  function keyboardStart() {
    rove();
    // The room opens with the message box focused; a permalink's page
    // with the entry it names.
    var named = document.querySelector("#messages > .entry[data-highlight]");
    if (named) focusEntry(named);
    else if (document.querySelector(".room") && composeBox()) focusBox();
    var list = document.body;
    new MutationObserver(function (records) {
      var inList = records.some(function (r) {
        var n = r.target;
        return n.id === "messages" || n.id === "scroller" || (n.closest && n.closest("#messages"));
      });
      if (!inList) return;
      rove();
      // A changed entry may come over the socket before the answer
      // (which then lands nowhere): either brings the focus back.
      settleFocus();
    }).observe(list, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", keyboardStart);
  else keyboardStart();

  // ---- Files: attached by button, drop or paste, and sent with progress ----
  //
  // The compose form takes files three ways: its attach button (which opens
  // the form's file field), files dropped anywhere on the room (a target
  // shows while they are dragged), and a picture pasted into the message
  // box. What will be sent shows above the box (a picture's thumbnail, any
  // other file's name, type and size), each with a button that takes it
  // out; the page checks the count and each size as the server does
  // (data-max-files, data-upload-limit), and says what it did in #announce.
  // A send with files goes by XMLHttpRequest, as htmx would send the form
  // (HX-Request, the draft's client id), so that its progress shows; the
  // answer is swapped as htmx swaps one: a fresh form, or why it was
  // refused (the files stay, to try again). Without files a send is as
  // above. The thumbnail is drawn on a canvas: the policy allows no blob:
  // pictures. A permalink's plain form keeps the file field as it is.

  var attached = [];      // {file, key, li}: what the next send carries
  var attachKey = 0;
  var uploading = null;   // the request of a send with files, under way
  var dragDepth = 0;

  function filesForm() {
    var form = document.getElementById("compose");
    return form && form.hasAttribute("hx-post") && form.querySelector("input[type=file]") ? form : null;
  }

  function uploadLimit(form) { return parseInt(form.getAttribute("data-upload-limit"), 10) || 10 * 1024 * 1024; }
  function maxFiles(form) { return parseInt(form.getAttribute("data-max-files"), 10) || 10; }

  // A size as the server writes it under a file (views.FileSize).
  function fileSize(n) {
    if (n < 1024) return n + " B";
    var v = n / 1024, units = ["KB", "MB", "GB"], u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    // The page's language writes the number ("1.2 MB", "1,2 MB"), as the
    // server does.
    var digits = v < 10 ? 1 : 0;
    return new Intl.NumberFormat(pageLang, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false }).format(v) + " " + units[u];
  }

  function fileKind(f) {
    var ext = /\.([A-Za-z0-9]{1,8})$/.exec(f.name || "");
    if (ext) return ext[1].toUpperCase();
    var sub = (f.type || "").split("/")[1];
    return sub ? sub.split(/[+.;]/)[0].toUpperCase() : say("files.kind");
  }

  function isPicture(f) { return /^image\/(png|jpeg|gif|webp)$/.test(f.type || ""); }

  // tell says text to a screen reader, in #announce.
  function tell(text) {
    var region = document.getElementById("announce");
    if (!region || !text) return;
    var p = document.createElement("p");
    p.textContent = text;
    region.appendChild(p);
    while (region.children.length > ANNOUNCE_KEEP) region.removeChild(region.firstElementChild);
  }

  function filesCount() {
    var n = attached.length;
    return n === 0 ? say("files.none") : say("files.count", { Count: n });
  }

  // fileProblem shows why files were not taken (or clears that), in the
  // place the server's reasons show.
  function fileProblem(text, retry) {
    var err = document.getElementById("compose-error");
    if (!err) return;
    if (text) {
      err.textContent = text;
      if (retry) {
        var again = document.createElement("button");
        again.type = "submit";
        again.className = "retry";
        again.textContent = say("files.try_again");
        err.appendChild(again);
      }
      err.hidden = false;
      err.setAttribute("role", "alert");
      err.setAttribute("data-kind", "error");
      err.setAttribute("data-files-problem", "");
    } else if (err.hasAttribute("data-files-problem")) {
      err.textContent = "";
      err.hidden = true;
      err.removeAttribute("data-files-problem");
    }
  }

  function thumbnail(f) {
    var canvas = document.createElement("canvas");
    canvas.className = "compose-thumb";
    canvas.width = canvas.height = 96;
    canvas.setAttribute("aria-hidden", "true");
    createImageBitmap(f).then(function (bmp) {
      var side = Math.min(bmp.width, bmp.height);
      canvas.getContext("2d").drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2, side, side, 0, 0, canvas.width, canvas.height);
      canvas.setAttribute("data-drawn", "");
      bmp.close();
    }).catch(function () {
      // Not a picture after all: its type stands in.
      canvas.replaceWith(kindMark(f));
    });
    return canvas;
  }

  function kindMark(f) {
    var mark = document.createElement("span");
    mark.className = "compose-kind";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = fileKind(f).slice(0, 4);
    return mark;
  }

  function fileItem(a) {
    if (a.li) return a.li;
    var f = a.file, li = document.createElement("li");
    li.className = "compose-file";
    li.setAttribute("data-key", String(a.key));
    li.appendChild(isPicture(f) && window.createImageBitmap ? thumbnail(f) : kindMark(f));
    var text = document.createElement("span");
    text.className = "compose-file-text";
    var name = document.createElement("span");
    name.className = "compose-file-name";
    name.textContent = f.name;
    name.title = f.name;
    var meta = document.createElement("span");
    meta.className = "compose-file-meta";
    meta.textContent = fileKind(f) + " · " + fileSize(f.size);
    text.appendChild(name);
    text.appendChild(meta);
    li.appendChild(text);
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "compose-file-remove";
    remove.setAttribute("aria-label", say("files.remove", { Name: f.name }));
    remove.title = say("files.remove", { Name: f.name });
    remove.textContent = "×";
    li.appendChild(remove);
    a.li = li;
    return li;
  }

  // showFiles puts what will be sent in the form's list: the form is a
  // new one after each send that the server answered.
  function showFiles() {
    var form = filesForm();
    var list = form && form.querySelector(".compose-files");
    if (!list) return;
    var items = attached.map(fileItem);
    if (items.length !== list.children.length || items.some(function (li, i) { return list.children[i] !== li; })) {
      list.replaceChildren.apply(list, items);
    }
    list.hidden = items.length === 0;
    form.toggleAttribute("data-files", items.length > 0);
    uploadState(!!uploading);
  }

  function addFiles(files) {
    var form = filesForm();
    if (!form || !files || !files.length) return;
    if (uploading) {
      fileProblem(say("files.busy"));
      return;
    }
    var limit = uploadLimit(form), most = maxFiles(form), problems = [], added = [], left = 0;
    Array.prototype.forEach.call(files, function (f) {
      if (attached.length >= most) { left++; return; }
      if (f.size === 0) problems.push(say("files.empty", { Name: f.name }));
      else if (f.size > limit) problems.push(say("files.too_big", { Name: f.name, Size: fileSize(limit) }));
      else {
        attached.push({ file: f, key: ++attachKey, li: null });
        added.push(f.name);
      }
    });
    if (left) problems.push(say("files.too_many", { Count: left, Most: most }));
    showFiles();
    fileProblem(problems.join(" "));
    if (added.length) tell((added.length === 1 ? say("files.attached_name", { Name: added[0] }) : say("files.attached", { Count: added.length })) + " " + filesCount());
  }

  function removeFile(key) {
    var at = attached.findIndex(function (a) { return a.key === key; });
    if (at < 0 || uploading) return;
    var gone = attached.splice(at, 1)[0];
    showFiles();
    fileProblem("");
    // The focus goes to the next file's button, else the one before, else
    // the message box.
    var next = attached[Math.min(at, attached.length - 1)];
    var button = next && next.li && next.li.querySelector(".compose-file-remove");
    if (button) button.focus();
    else focusBox();
    tell(say("files.removed", { Name: gone.file.name }) + " " + filesCount());
  }

  // uploadState shows a send with files under way: its progress, and no
  // second send, nor changes to what it carries, meanwhile.
  function uploadState(on, percent) {
    var form = filesForm();
    if (!form) return;
    form.toggleAttribute("data-uploading", on);
    form.querySelectorAll(".compose-send, .attach, .compose-file-remove").forEach(function (b) { b.disabled = on; });
    var bar = form.querySelector(".compose-progress");
    if (bar) {
      bar.hidden = !on;
      if (on && percent !== undefined) bar.value = percent;
      if (!on) bar.value = 0;
    }
  }

  function uploadStatus(text) {
    var form = filesForm(), out = form && form.querySelector(".compose-status");
    if (out) out.textContent = text;
  }

  // The server's answer is swapped as htmx swaps an answer: its fragments
  // out of band (a fresh form; or #compose-error with why).
  function swapAnswer(html) {
    var sink = document.getElementById("upload-sink");
    if (!sink) {
      sink = document.createElement("div");
      sink.id = "upload-sink";
      sink.hidden = true;
      document.body.appendChild(sink);
    }
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var oob = Array.prototype.some.call(tpl.content.children, function (el) { return el.hasAttribute("hx-swap-oob"); });
    if (oob) htmx.swap(sink, html, { swapStyle: "none" });
    return oob;
  }

  function refusedSaying(status) {
    if (status === 413) return say("files.too_much");
    if (status === 429) return say("files.too_fast");
    if (status === 0) return say("files.connection_failed");
    return say("files.failed");
  }

  function upload(form) {
    var area = form.querySelector("textarea");
    var data = new FormData(form);
    data.delete("file");
    data.set("client_id", clientIdOf(form));
    attached.forEach(function (a) { data.append("file", a.file, a.file.name); });
    var xhr = new XMLHttpRequest();
    uploading = xhr;
    form.setAttribute("data-pending-text", area ? area.value : "");
    // Why the last try was refused goes, as this one begins.
    var err = document.getElementById("compose-error");
    if (err) { err.hidden = true; err.textContent = ""; err.removeAttribute("data-files-problem"); }
    uploadState(true, 0);
    uploadStatus(say("files.sending", { Count: attached.length }));
    xhr.open("POST", form.getAttribute("hx-post"));
    xhr.setRequestHeader("HX-Request", "true");
    xhr.setRequestHeader("HX-Current-URL", location.href);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable && e.total > 0) uploadState(true, Math.round(100 * e.loaded / e.total));
    });
    xhr.addEventListener("load", function () { uploaded(xhr); });
    xhr.addEventListener("error", function () { uploaded(xhr); });
    xhr.addEventListener("abort", function () { uploaded(xhr); });
    xhr.send(data);
  }

  function uploaded(xhr) {
    if (uploading !== xhr) return;
    uploading = null;
    uploadState(false);
    uploadStatus("");
    var html = xhr.status ? xhr.responseText || "" : "";
    if (xhr.status >= 200 && xhr.status < 300) {
      var n = attached.length;
      attached = [];
      var form = filesForm();
      // The fresh form comes in place of this one (or, for a new draft
      // typed meanwhile, leaves it: see above); without one, this form is
      // cleared here.
      if (!swapAnswer(html) && form) {
        var area = form.querySelector("textarea");
        if (area && area.value === form.getAttribute("data-pending-text")) area.value = "";
        var hidden = form.querySelector('input[name="client_id"]');
        if (hidden) hidden.value = "";
        saveDraft();
      }
      showFiles();
      tell(say("files.sent", { Count: n }));
      return;
    }
    // Refused, or not answered: the files stay, to try again with the same
    // id (a send that did land is not stored twice).
    if (!/id="compose-error"/.test(html) || !swapAnswer(html)) fileProblem(refusedSaying(xhr.status), true);
    showFiles();
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t.closest) return;
    var attach = t.closest("#compose .attach");
    if (attach) {
      var field = attach.form && attach.form.querySelector("input[type=file]");
      if (field) field.click();
      return;
    }
    var remove = t.closest("#compose .compose-file-remove");
    if (remove) removeFile(parseInt(remove.closest(".compose-file").getAttribute("data-key"), 10));
  });

  // Picked with the button: taken into the list, and the field emptied,
  // so that a send without files carries none.
  document.addEventListener("change", function (e) {
    var field = e.target;
    if (!(field instanceof HTMLInputElement) || field.type !== "file" || !field.form || field.form !== filesForm()) return;
    addFiles(Array.prototype.slice.call(field.files));
    field.value = "";
  });

  // Pasted into the message box: files (a screenshot), unless the
  // clipboard has text too (cells of a spreadsheet come with a picture of
  // themselves), which is pasted as text.
  document.addEventListener("paste", function (e) {
    var form = filesForm(), cd = e.clipboardData;
    if (!form || !cd || !e.target.closest || e.target.closest("form") !== form) return;
    if (!cd.files || !cd.files.length || cd.getData("text/plain") !== "") return;
    e.preventDefault();
    addFiles(Array.prototype.slice.call(cd.files));
  });

  function dragsFiles(e) {
    var types = e.dataTransfer && e.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0 && !!filesForm();
  }

  function dropZone(show) {
    var zone = document.getElementById("drop-zone");
    if (!zone && show) {
      var conv = document.querySelector(".conversation");
      if (!conv) return;
      zone = document.createElement("div");
      zone.id = "drop-zone";
      zone.className = "drop-zone";
      var p = document.createElement("p");
      p.textContent = say("files.drop");
      zone.appendChild(p);
      conv.appendChild(zone);
    }
    if (zone) zone.hidden = !show;
  }

  document.addEventListener("dragenter", function (e) {
    if (!dragsFiles(e)) return;
    e.preventDefault();
    dragDepth++;
    dropZone(true);
  });
  document.addEventListener("dragover", function (e) {
    if (!dragsFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", function (e) {
    if (!dragsFiles(e)) return;
    dragDepth = Math.max(dragDepth - 1, 0);
    if (dragDepth === 0) dropZone(false);
  });
  document.addEventListener("drop", function (e) {
    if (!dragsFiles(e)) return;
    // Anywhere on the page: a file dropped beside the room is not opened
    // in place of the page.
    e.preventDefault();
    dragDepth = 0;
    dropZone(false);
    addFiles(Array.prototype.slice.call(e.dataTransfer.files));
    focusBox();
  });

  // A send with files goes by its own request; one without files and
  // without text goes nowhere (the box takes the focus). Before htmx's
  // handlers, on the form, see the submit.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || form !== filesForm()) return;
    var area = form.querySelector("textarea");
    var stop = function () { e.preventDefault(); e.stopImmediatePropagation(); };
    if (uploading) { stop(); return; }
    if (!attached.length) {
      if (area && area.value.trim() === "" && !form.hasAttribute("data-pending")) { stop(); focusBox(); }
      return;
    }
    // A text send still waiting for the connection goes first, as it was.
    if (form.hasAttribute("data-pending")) return;
    stop();
    upload(form);
  }, true);

  // Enter in an empty box sends the files alone.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || !(t instanceof HTMLTextAreaElement) || !t.form || t.form !== filesForm()) return;
    if (t.value.trim() === "" && attached.length) {
      e.preventDefault();
      t.form.requestSubmit();
    }
  });

  // A fresh form (after any send) shows the files still to send.
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "compose") showFiles();
  });

  window.addEventListener("beforeunload", function (e) {
    if (uploading) e.preventDefault();
  });
})();
