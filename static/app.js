// The chat's page behaviour, on top of htmx and its ws extension: resuming
// a room's socket where the page left off, loading older entries, following
// the conversation, typing signals and the compose field's keys. No build.
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
      more.textContent = "Loading older messages…";
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
  // says "Today", "Yesterday" or the date in the reader's language. Only
  // what differs is changed, so that running it again changes nothing.

  var dayName = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
  var dayNameYear = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  var relativeDay = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;

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
    if (relativeDay && (ago === 0 || ago === 1)) {
      var s = relativeDay.format(-ago, "day");
      return s.charAt(0).toUpperCase() + s.slice(1);
    }
    return (d.getFullYear() === today.getFullYear() ? dayName : dayNameYear).format(d);
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

  var keepFromBottom = null;

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

  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.requestConfig && e.detail.requestConfig.elt && e.detail.requestConfig.elt.id === "history-more") {
      var sc = scroller();
      keepFromBottom = sc ? sc.scrollHeight - sc.scrollTop : null;
    }
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    var cfg = e.detail.requestConfig;
    if (!cfg || !cfg.elt || cfg.elt.id !== "history-more") return;
    var sc = scroller();
    if (sc && keepFromBottom !== null) sc.scrollTop = sc.scrollHeight - keepFromBottom;
    keepFromBottom = null;
    localTimes(messages());
    var xhr = e.detail.xhr;
    if (xhr && xhr.getResponseHeader("X-History-End") === "true") {
      var start = document.createElement("p");
      start.id = "history-more";
      start.className = "history-start";
      start.textContent = "This is the start of the room.";
      cfg.elt.replaceWith(start);
    }
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
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    lastTypingSent = now;
    socket.send(JSON.stringify({ typing: true }));
  }

  // ---- Times in the reader's own zone -----------------------------------

  var timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
  var longFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

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

  function grow(area) {
    area.style.height = "auto";
    area.style.height = Math.min(area.scrollHeight + 2, 192) + "px";
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

  document.addEventListener("htmx:wsConfigSend", function (e) {
    var form = e.target;
    if (!form || form.id !== "compose") return;
    var hidden = form.querySelector('input[name="client_id"]');
    if (hidden && !hidden.value) hidden.value = newClientId();
    if (hidden) e.detail.parameters.client_id = hidden.value;
    var area = form.querySelector("textarea");
    form.setAttribute("data-pending-text", area ? area.value : "");
    var open = socket && socket.readyState === WebSocket.OPEN;
    form.setAttribute("data-sent", open ? "open" : "queued");
    setPending(form, open ? "Sending…" : "Waiting for the connection…");
  });

  document.addEventListener("input", function (e) {
    var form = e.target.form;
    if (!form || form.id !== "compose" || !form.hasAttribute("data-pending")) return;
    // An edited draft is another post: it gets an id of its own.
    if (e.target.value !== form.getAttribute("data-pending-text")) {
      var hidden = form.querySelector('input[name="client_id"]');
      if (hidden) hidden.value = newClientId();
    }
  });

  // A send that went out on a socket that then dropped may or may not have
  // landed: send it again, with its id, when the socket is back.
  document.addEventListener("htmx:wsOpen", function () {
    var form = document.getElementById("compose");
    if (form && form.hasAttribute("data-pending") && form.getAttribute("data-sent") === "open") {
      form.requestSubmit();
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
      }
    }
    if (target.id === "compose-error") {
      var form = document.getElementById("compose");
      if (form) setPending(form, "");
    }
  });

  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var target = e.detail.target;
    if (!target) return;
    if (target.id === "compose") {
      var area = document.querySelector("#compose textarea");
      if (area && composeHadFocus) area.focus();
    }
    // The whole history was replaced (the page had fallen far behind): the
    // old list is gone from the page, a new one stands in its place.
    if (target.id === "messages" && !document.body.contains(target)) {
      localTimes(messages());
      scrollToBottom();
    }
  });

  // ---- The connection ------------------------------------------------------

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
      b.textContent = "Connection lost. Reconnecting…";
      var conv = document.querySelector(".conversation");
      if (conv) conv.prepend(b);
    } else if (!show && b) {
      b.remove();
    }
  }

  document.addEventListener("htmx:wsOpen", function () { banner(false); });
  document.addEventListener("htmx:wsClose", function (e) {
    var code = e.detail && e.detail.event && e.detail.event.code;
    if (code === 1008) {
      // Signed out elsewhere: this page's session is gone.
      location.assign("/login");
      return;
    }
    banner(true);
  });


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
    if ((status === 422 || status === 409 || status === 429) && elt.closest && elt.closest(".entry, .picker")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
      return;
    }
    var m = /data-rev="(\d+)"/.exec(e.detail.serverResponse || "");
    if (m && revOf(target) > parseInt(m[1], 10)) e.detail.shouldSwap = false;
  });

  document.addEventListener("htmx:wsAfterMessage", function (e) {
    var text = e.detail && e.detail.message;
    if (typeof text !== "string" || text.indexOf("data-rev") < 0) return;
    var re = /data-rev="(\d+)"/g, m;
    while ((m = re.exec(text))) seenRev = Math.max(seenRev, parseInt(m[1], 10) || 0);
  });

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
        if (!confirm("Delete this message for everyone?")) return;
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
    var box = document.createElement("div");
    box.innerHTML = xhr && xhr.responseText ? xhr.responseText : "";
    var msg = box.querySelector("[data-kind=error]");
    var toast = document.createElement("p");
    toast.className = "toast";
    toast.setAttribute("role", "alert");
    toast.textContent = msg ? msg.textContent.trim() : "That did not work. Try again.";
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
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && socket) location.reload();
  });

  // ---- Start -------------------------------------------------------------

  // Before htmx opens the room's socket, which it does when the document
  // is ready: this script runs after htmx's, and before that moment.
  installSocketFactory();

  function start() {
    document.documentElement.classList.add("js");
    var list = messages();
    if (list) seenRev = parseInt(list.getAttribute("data-rev") || "0", 10) || 0;
    var sc = scroller();
    var target = document.querySelector("#messages [data-highlight]");
    if (sc) {
      sc.addEventListener("scroll", onScroll, { passive: true });
      if (target) {
        target.scrollIntoView({ block: "center" });
        atBottom = nearBottom(sc);
      } else {
        scrollToBottom();
      }
    }
    localTimes(document.body);
    regroup();
    var jump = document.getElementById("jump");
    if (jump) jump.addEventListener("click", scrollToBottom);
    var area = document.querySelector("#compose textarea");
    if (area) grow(area);

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

  // A button with data-copy copies the text of the element it names (an
  // invitation link shown once) to the clipboard.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    if (!b) return;
    var src = document.querySelector(b.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) return;
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      b.textContent = "Copied";
    }, function () {
      b.textContent = "Select the link and copy it";
    });
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
