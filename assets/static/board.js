// Walnut's board: live tiles over server-sent events, a clock, and a loud
// warning when what the TV shows may be out of date. No dependencies.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-events");
  var version = body.getAttribute("data-version");
  var instance = body.getAttribute("data-instance");
  var stale = document.getElementById("stale");
  var staleText = document.getElementById("stale-text");
  var updated = document.getElementById("updated");
  var clock = document.getElementById("clock");
  // Set when the server could not read the board and sent its shell: why,
  // and since when.
  var unavailable = body.getAttribute("data-unavailable") || "";
  var unavailableSince = Date.parse(body.getAttribute("data-unavailable-since") || "");

  var source = null;
  var streamUp = false;       // hello received on the current stream
  var serverListening = true; // the server hears the database
  var lastMessage = 0;        // local ms of the last event
  var heartbeat = 15000;
  var skew = 0;               // server clock minus ours, from pings
  var attempts = 0;
  var retryTimer = null;
  var downSince = Date.now();
  var loaded = Date.now();
  var everFailed = false;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hhmm(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }
  function hhmmss(d) { return hhmm(d) + ":" + pad(d.getSeconds()); }

  // ago mirrors the server's format: 45s, 12m, 3h 12m, 4d 2h.
  function ago(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m";
    var h = Math.floor(m / 60);
    if (h < 24) return h + "h " + (m % 60) + "m";
    return Math.floor(h / 24) + "d " + (h % 24) + "h";
  }

  function serverNow() { return Date.now() + skew; }

  function tick() {
    var now = new Date();
    if (clock) clock.textContent = hhmm(now);
    var snow = serverNow();
    var els = document.querySelectorAll("[data-since]");
    for (var i = 0; i < els.length; i++) {
      var since = Date.parse(els[i].getAttribute("data-since"));
      if (isNaN(since)) continue;
      var prefix = els[i].classList.contains("fail-for") ? "down for " : "for ";
      els[i].textContent = prefix + ago(snow - since);
    }
    localTimes(now);
    checkStale();
  }

  // localTimes shows the footer's times (an alert sink refused at…) in the
  // TV's time, as the clock is, with the day when it is not today.
  function localTimes(now) {
    var els = document.querySelectorAll("time.alert-time[datetime]");
    for (var i = 0; i < els.length; i++) {
      var d = new Date(els[i].getAttribute("datetime"));
      if (isNaN(d.getTime())) continue;
      var text = hhmm(d);
      if (d.toDateString() !== now.toDateString()) {
        text = d.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" }) + " " + text;
      }
      if (els[i].textContent !== text) els[i].textContent = text;
    }
  }

  // checkStale shows the banner when the stream is down, the server lost
  // the database, or any site's last probe is older than three intervals.
  function checkStale() {
    if (unavailable) {
      staleText.textContent = "The board cannot be read: " + unavailable +
        (isNaN(unavailableSince) ? "" : " since " + hhmm(new Date(unavailableSince))) + " — retrying.";
      stale.hidden = false;
      body.classList.add("is-stale");
      return;
    }
    var reasons = [];
    if (url && !streamUp && (everFailed || Date.now() - loaded > 5000)) {
      reasons.push("Live updates are disconnected (since " + hhmmss(new Date(downSince)) + "): this board may be out of date. Reconnecting…");
    } else if (url && Date.now() - lastMessage > heartbeat * 2.5) {
      reasons.push("No word from the server for " + ago(Date.now() - lastMessage) + ": this board may be out of date.");
    } else if (!serverListening) {
      reasons.push("The server has lost its database connection: tiles may be out of date.");
    }
    var snow = serverNow(), late = [];
    var tiles = document.querySelectorAll("[data-testid=tile]");
    for (var i = 0; i < tiles.length; i++) {
      var t = tiles[i];
      var checked = Date.parse(t.getAttribute("data-checked") || "");
      var interval = parseInt(t.getAttribute("data-interval"), 10);
      var isLate = !isNaN(checked) && interval > 0 && snow - checked > 3 * interval * 1000;
      t.classList.toggle("tile-stale", isLate);
      if (isLate) late.push(t.querySelector(".tile-name").textContent);
    }
    if (late.length > 0) {
      reasons.push("No recent probe for " + (late.length > 3 ? late.length + " sites" : late.join(", ")) + ": the checker may be stuck.");
    }
    if (reasons.length > 0) {
      staleText.textContent = reasons.join(" ");
      stale.hidden = false;
      body.classList.add("is-stale");
    } else {
      stale.hidden = true;
      body.classList.remove("is-stale");
    }
  }

  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  function swapTile(html) {
    var el = fragment(html);
    if (!el) return;
    var old = document.getElementById(el.id);
    if (!old) { location.reload(); return; } // a site the page does not know
    old.replaceWith(el);
  }

  function swap(html) {
    var el = fragment(html);
    if (!el || !el.id) return;
    var old = document.getElementById(el.id);
    if (old) old.replaceWith(el);
  }

  function setChecked(data) {
    var m = JSON.parse(data);
    for (var slug in m) {
      var t = document.getElementById("tile-" + slug);
      if (t) t.setAttribute("data-checked", new Date(m[slug]).toISOString());
    }
  }

  function synced(data) {
    var order = JSON.parse(data);
    var tiles = document.querySelectorAll("[data-testid=tile]");
    if (tiles.length !== order.length) { location.reload(); return; }
    for (var i = 0; i < order.length; i++) {
      if (!document.getElementById("tile-" + order[i])) { location.reload(); return; }
    }
  }

  function heard() {
    lastMessage = Date.now();
    if (updated) updated.textContent = "Updated " + hhmmss(new Date());
  }

  function on(name, fn) {
    source.addEventListener(name, function (e) {
      heard();
      try { fn(e.data); } catch (err) { console.error("walnut:", name, err); }
      if (name !== "ping") tick();
    });
  }

  function connect() {
    retryTimer = null;
    source = new EventSource(url);
    on("hello", function (data) {
      var h = JSON.parse(data);
      // A new version, or a new process (a deploy, a restart): the page
      // itself may have changed.
      if (h.version !== version || (instance && h.instance !== instance)) { location.reload(); return; }
      heartbeat = h.heartbeat_ms || heartbeat;
      streamUp = true;
      attempts = 0;
      body.classList.add("is-live");
    });
    on("status", function (data) {
      serverListening = JSON.parse(data).listening;
      // The server hears the database again: the board may be readable.
      if (unavailable && serverListening) recover();
    });
    if (!unavailable) {
      // The shell has no tiles to swap: the stream's are the hub's last
      // known ones, and the board comes back whole with a reload.
      on("tile", swapTile);
      on("swap", swap);
      on("checked", setChecked);
      on("synced", synced);
    }
    on("ping", function (data) { skew = parseInt(data, 10) - Date.now(); });
    source.onerror = function () {
      // Take over from EventSource's own retry, to back off.
      source.close();
      if (streamUp) downSince = Date.now();
      everFailed = true;
      streamUp = false;
      body.classList.remove("is-live");
      checkStale();
      attempts++;
      var wait = Math.min(30000, 1000 * Math.pow(2, attempts - 1)) * (0.75 + Math.random() / 2);
      retryTimer = setTimeout(connect, wait);
    };
  }

  // recover asks for the board and reloads once the server can read it;
  // until then it asks again with backoff, 2 s doubling to a minute, and at
  // once when the stream says the server hears the database again. Asking
  // before reloading keeps the TV on this page while the server itself is
  // down: a blind reload would leave the browser's own error page, with no
  // script to bring the board back.
  var recoverTries = 0;
  var recoverTimer = null;
  var recoverBusy = false;
  function recover() {
    if (recoverTimer) { clearTimeout(recoverTimer); recoverTimer = null; }
    if (recoverBusy) return;
    recoverBusy = true;
    var xhr = new XMLHttpRequest();
    xhr.open("GET", location.href);
    xhr.timeout = 30000;
    xhr.onload = function () {
      recoverBusy = false;
      if (xhr.status === 200) { location.reload(); return; }
      recoverLater();
    };
    xhr.onerror = xhr.ontimeout = function () {
      recoverBusy = false;
      recoverLater();
    };
    xhr.send();
  }
  function recoverLater() {
    recoverTries++;
    var wait = Math.min(60000, 2000 * Math.pow(2, recoverTries - 1)) * (0.75 + Math.random() / 2);
    recoverTimer = setTimeout(recover, wait);
  }

  // A stream that went quiet past its heartbeat is dead even if the socket
  // is not: reconnect.
  setInterval(function () {
    if (url && streamUp && Date.now() - lastMessage > heartbeat * 2.5) {
      source.close();
      source.onerror();
    }
  }, 5000);

  setInterval(tick, 1000);
  lastMessage = Date.now();
  if (url) connect();
  if (unavailable) recoverLater();
  tick();
})();
