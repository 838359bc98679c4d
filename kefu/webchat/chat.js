/*
 * 龙堂商城 web chat: talks to the assistant's socket.io channel (session persistence on).
 *
 * - The session id lives in localStorage and is sent with `session_request` on every (re)connect,
 *   so a reload or a reconnection continues the same conversation. So does the session's key, which
 *   the server sends once (`session_key`) when the session opens: the session id alone proves
 *   nothing, and without its key the server answers with a new session.
 * - The server does not replay history over socket.io: the page keeps its own transcript in
 *   localStorage and shows it again after a reload.
 * - Quick replies (the bot's `quick_replies`/`buttons`) show their title and send their payload.
 * - Everything the bot sends is put in the page with textContent / created elements, never as
 *   HTML; only http(s) URLs become links (rel="noopener noreferrer").
 * - Enter sends, Shift+Enter adds a line; the Enter that confirms an IME composition (Chinese
 *   input methods) never sends.
 */
(function () {
  "use strict";

  var root = document.getElementById("webchat");
  var config = {
    path: root.getAttribute("data-socket-path") || "/socket.io",
    userEvent: root.getAttribute("data-user-event") || "user_uttered",
    botEvent: root.getAttribute("data-bot-event") || "bot_uttered"
  };
  var HUMAN_REQUEST = "转人工";
  var STORAGE_PREFIX = "longtang-webchat:";
  var SESSION_KEY = STORAGE_PREFIX + "session";
  var PROOF_KEY = STORAGE_PREFIX + "session-key";
  var TRANSCRIPT_KEY = STORAGE_PREFIX + "transcript";
  var MAX_ENTRIES = 200;
  var TYPING_TIMEOUT_MS = 30000;
  // The greeting's suggested questions stay clickable; the assistant's own quick replies only while
  // they are the latest message (a stale "确认取消" must not be clickable later).
  var WELCOME = {
    from: "bot",
    suggestions: true,
    text: "您好，我是龙堂商城智能客服小龙！订单、物流、退换货、运费、发票等问题都可以问我。",
    buttons: [
      { title: "运费怎么算？", payload: "运费怎么算？" },
      { title: "可以无理由退货吗？", payload: "可以无理由退货吗？" },
      { title: "怎么开发票？", payload: "怎么开发票？" }
    ]
  };

  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var sendButton = document.getElementById("chat-send");
  var humanButton = document.getElementById("chat-human");
  var statusLine = document.getElementById("chat-status");
  var offlineBanner = document.getElementById("chat-offline");
  var typing = document.getElementById("chat-typing");

  // ---- storage: localStorage may be unavailable (private mode, disabled cookies) ----------------

  function load(key) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw === null ? null : JSON.parse(raw);
    } catch (error) {
      return null;
    }
  }

  function save(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      /* the conversation still works, it just won't survive a reload */
    }
  }

  var sessionId = typeof load(SESSION_KEY) === "string" ? load(SESSION_KEY) : null;
  var transcript = loadTranscript(sessionId);
  var ready = false;
  var composing = false;
  var typingTimer = null;

  function loadTranscript(id) {
    var stored = load(TRANSCRIPT_KEY);
    if (id && stored && stored.session_id === id && Array.isArray(stored.entries)) {
      return stored.entries.filter(isEntry);
    }
    return [];
  }

  function isEntry(entry) {
    return entry && (entry.from === "user" || entry.from === "bot");
  }

  function persist() {
    if (transcript.length > MAX_ENTRIES) {
      transcript = transcript.slice(transcript.length - MAX_ENTRIES);
    }
    if (sessionId) {
      save(TRANSCRIPT_KEY, { session_id: sessionId, entries: transcript });
    }
  }

  // ---- rendering: DOM built with textContent, never innerHTML -----------------------------------

  var URL_PATTERN = /https?:\/\/[^\s<>"'`，。！？；：、（）【】《》「」“”]+/g;
  var TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

  function safeUrl(candidate) {
    try {
      var url = new URL(candidate);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  /** Appends `text` to `element` as text nodes, with http(s) URLs as links. */
  function appendText(element, text) {
    var position = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var candidate = match[0].replace(TRAILING_PUNCTUATION, "");
      var href = safeUrl(candidate);
      if (!candidate || !href) {
        continue;
      }
      element.appendChild(document.createTextNode(text.slice(position, match.index)));
      var link = document.createElement("a");
      link.href = href;
      link.textContent = candidate;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      element.appendChild(link);
      position = match.index + candidate.length;
      URL_PATTERN.lastIndex = position;
    }
    element.appendChild(document.createTextNode(text.slice(position)));
  }

  function renderEntry(entry, index) {
    var item = document.createElement("li");
    item.className = "msg msg-" + entry.from;
    if (typeof entry.text === "string" && entry.text) {
      var bubble = document.createElement("div");
      bubble.className = "bubble";
      appendText(bubble, entry.text);
      item.appendChild(bubble);
    }
    if (entry.image) {
      var imageLink = document.createElement("div");
      imageLink.className = "bubble";
      appendText(imageLink, "图片：" + entry.image);
      item.appendChild(imageLink);
    }
    if (entry.source && typeof entry.source.title === "string" && entry.source.title) {
      var source = document.createElement("div");
      source.className = "msg-source";
      source.textContent = "来源：" + entry.source.title;
      item.appendChild(source);
    }
    if (Array.isArray(entry.buttons) && entry.buttons.length) {
      var row = document.createElement("div");
      row.className = "quick-replies";
      var active = entry.suggestions === true || index === transcript.length - 1;
      entry.buttons.forEach(function (button) {
        var element = document.createElement("button");
        element.type = "button";
        element.className = "quick-reply";
        element.textContent = button.title;
        element.disabled = !active || !ready;
        element.addEventListener("click", function () {
          if (send(button.payload, button.title)) {
            row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
          }
        });
        row.appendChild(element);
      });
      item.appendChild(row);
    }
    return item;
  }

  function renderAll() {
    log.textContent = "";
    transcript.forEach(function (entry, index) {
      log.appendChild(renderEntry(entry, index));
    });
    log.scrollTop = log.scrollHeight;
  }

  function add(entry) {
    transcript.push(entry);
    persist();
    renderAll();
  }

  // ---- the bot's messages ---------------------------------------------------------------------

  function buttonsOf(message) {
    var raw = Array.isArray(message.quick_replies) ? message.quick_replies : message.buttons;
    if (!Array.isArray(raw)) {
      return [];
    }
    return raw
      .filter(function (b) { return b && typeof b.title === "string" && typeof b.payload === "string"; })
      .map(function (b) { return { title: b.title, payload: b.payload }; });
  }

  function imageOf(message) {
    var attachment = message.attachment;
    var src = attachment && attachment.payload && attachment.payload.src;
    if (typeof src !== "string" && typeof message.image === "string") {
      src = message.image;
    }
    return typeof src === "string" && safeUrl(src) ? src : null;
  }

  function onBotMessage(message) {
    if (!message || typeof message !== "object") {
      return;
    }
    stopTyping();
    var source = message.source && typeof message.source === "object" ? message.source : null;
    var last = transcript[transcript.length - 1];
    if (source && !message.text && last && last.from === "bot" && !last.source) {
      // The FAQ answer's source arrives as its own message: show it under the answer.
      last.source = { title: String(source.title || ""), type: String(source.type || "") };
      persist();
      renderAll();
      return;
    }
    var entry = { from: "bot" };
    if (typeof message.text === "string" && message.text) {
      entry.text = message.text;
    }
    var buttons = buttonsOf(message);
    if (buttons.length) {
      entry.buttons = buttons;
    }
    var image = imageOf(message);
    if (image) {
      entry.image = image;
    }
    if (entry.text || entry.buttons || entry.image) {
      add(entry);
    }
  }

  // ---- sending --------------------------------------------------------------------------------

  /** Sends `payload`, shown in the transcript as `shownAs`; false when not connected. */
  function send(payload, shownAs) {
    var text = String(payload || "").trim();
    if (!ready || !text) {
      return false;
    }
    add({ from: "user", text: shownAs || text });
    socket.emit(config.userEvent, { message: text, session_id: sessionId });
    startTyping();
    return true;
  }

  function submit() {
    if (send(input.value)) {
      input.value = "";
      resizeInput();
    }
  }

  function startTyping() {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_TIMEOUT_MS);
  }

  function stopTyping() {
    typing.hidden = true;
    clearTimeout(typingTimer);
  }

  function resizeInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });

  input.addEventListener("compositionstart", function () { composing = true; });
  input.addEventListener("compositionend", function () { composing = false; });
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey) {
      return;
    }
    // The Enter that confirms an IME composition: keyCode 229 / isComposing (Safari sends the
    // compositionend before this keydown, hence the flag kept by the composition events too).
    if (event.isComposing || event.keyCode === 229 || composing) {
      return;
    }
    event.preventDefault();
    submit();
  });
  input.addEventListener("input", resizeInput);

  humanButton.addEventListener("click", function () {
    send(HUMAN_REQUEST);
  });

  // ---- connection state -----------------------------------------------------------------------

  function setState(state, text) {
    ready = state === "online";
    statusLine.setAttribute("data-state", state);
    statusLine.textContent = text;
    root.setAttribute("data-state", state);
    offlineBanner.hidden = state !== "offline";
    input.disabled = !ready;
    sendButton.disabled = !ready;
    humanButton.disabled = !ready;
    if (!ready) {
      stopTyping();
    }
    renderAll();
  }

  var socket = window.io({
    path: config.path,
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    timeout: 10000
  });

  socket.on("connect", function () {
    setState("connecting", "正在恢复会话…");
    var request = {};
    if (sessionId) {
      request.session_id = sessionId;
      var proof = load(PROOF_KEY);
      if (proof && proof.session_id === sessionId && typeof proof.session_key === "string") {
        request.session_key = proof.session_key;
      }
    }
    socket.emit("session_request", request);
  });

  // A new session's key, sent once, before its session_confirm.
  socket.on("session_key", function (data) {
    if (data && typeof data.session_id === "string" && typeof data.session_key === "string") {
      save(PROOF_KEY, { session_id: data.session_id, session_key: data.session_key });
    }
  });

  socket.on("session_confirm", function (data) {
    var confirmed = typeof data === "string" ? data : data && data.session_id;
    if (typeof confirmed !== "string" || !confirmed) {
      return;
    }
    if (confirmed !== sessionId) {
      sessionId = confirmed;
      save(SESSION_KEY, sessionId);
      transcript = [];
    }
    if (!transcript.length) {
      transcript.push(WELCOME);
      persist();
    }
    setState("online", "在线 · 智能客服小龙");
  });

  socket.on(config.botEvent, onBotMessage);

  socket.on("disconnect", function () {
    setState("offline", "连接已断开，正在重连…");
  });

  socket.on("connect_error", function () {
    setState("offline", "无法连接客服服务器，正在重试…");
  });

  renderAll();
})();
