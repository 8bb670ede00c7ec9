/* The citizen web chat: renders the conversation (always with textContent), sends, and listens live. */
"use strict";

(function () {
  // In the widget's frame (/?embed=1) the page fits the frame: the conversation scrolls, the message box stays in view.
  if (new URLSearchParams(window.location.search).get("embed") === "1") {
    document.documentElement.classList.add("embedded");
  }
  var state = {
    csrf: "", seen: new Set(), openMenu: null, maxChars: 8000, caseStatus: null, source: null,
    texts: {}, language: "en", dir: "ltr"
  };
  var ENGLISH = {
    you: "You", staff: "Staff", service: "City contact service", menu_label: "Choose the office for your case",
    rating_label: "Rate the answer from 1 (very poor) to 5 (very good)",
    attachments: "Attachments: {names}", "case": "Case {reference}", idle: "Write to us: we pass your message to the right office.",
    status_open: "open", status_pending: "waiting for you to choose an office", status_closed: "closed",
    load_failed: "The chat could not be loaded. Please reload the page.",
    send_failed: "Your message could not be sent. Please try again.",
    connection_lost: "Your message could not be sent: the connection was lost. Please try again.",
    choice_failed: "Your choice could not be sent.", try_again: "Please try again.",
    empty: "Please write a message before sending.",
    too_long: "Your message is too long ({length} characters; the limit is {limit}). Please send it in shorter parts."
  };
  var languageSelect = document.getElementById("language");
  var list = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var nameInput = document.getElementById("name");
  var notice = document.getElementById("notice");
  var status = document.getElementById("case-status");
  var newCase = document.getElementById("new-case");
  var sendButton = document.getElementById("send");

  function uuid() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  // A page text in the citizen's language (the server sends them with the history), placeholders filled in.
  function t(key, fields) {
    var text = state.texts[key] || ENGLISH[key] || key;
    Object.keys(fields || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(fields[name])); });
    return text;
  }

  function applyLanguage(data) {
    state.texts = data.texts || {};
    state.language = data.language || "en";
    state.dir = data.dir || "ltr";
    document.documentElement.lang = state.language;
    document.documentElement.dir = state.dir;
    Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (node) {
      var text = state.texts[node.dataset.t];
      if (text) { node.textContent = text; }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-t-placeholder]"), function (node) {
      var text = state.texts[node.dataset.tPlaceholder];
      if (text) { node.placeholder = text; }
    });
    if (data.languages && languageSelect.options.length !== data.languages.length) {
      languageSelect.textContent = "";
      data.languages.forEach(function (language) {
        var option = el("option", null, language.name);
        option.value = language.code;
        option.lang = language.code;
        languageSelect.appendChild(option);
      });
    }
    languageSelect.value = state.language;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function who(item) {
    if (item.who === "citizen") { return t("you"); }
    if (item.who === "staff") { return item.signature || t("staff"); }
    return t("service");
  }

  function timeOf(item) {
    var at = item.at ? new Date(item.at) : new Date();
    var node = el("time", "when", at.toLocaleTimeString([state.language], { hour: "2-digit", minute: "2-digit" }));
    node.dateTime = at.toISOString();
    return node;
  }

  // The department menu ("menu": only the open one takes a choice) or other buttons ("choices": subscribe,
  // answer a consultation), which stay usable: a consultation's answer can be changed until it closes.
  function renderMenu(item, li, kind) {
    var group = el("div", kind || "menu");
    group.setAttribute("role", "group");
    var rating = item.options.every(function (option) { return option.key.indexOf("rate:") === 0; });
    group.setAttribute("aria-label", t(rating ? "rating_label" : "menu_label"));
    item.options.forEach(function (option) {
      var button = el("button", "secondary", option.label);
      button.type = "button";
      button.dataset.choice = option.key;
      button.addEventListener("click", function () { choose(option.key, group, kind === "choices"); });
      group.appendChild(button);
    });
    li.appendChild(group);
  }

  function render(item) {
    if (state.seen.has(item.id)) { return null; }
    state.seen.add(item.id);
    var li = el("li", "msg msg-" + item.who);
    li.id = "item-" + item.id;
    if (item.who === "bridge") {
      // The bridge writes in the citizen's language; people write in theirs, so the browser reads their direction.
      li.lang = state.language;
      li.dir = state.dir;
    }
    var head = el("p", "who", who(item) + " ");
    head.appendChild(timeOf(item));
    li.appendChild(head);
    var body = el("p", "text", item.text);
    if (item.who !== "bridge") { body.dir = "auto"; }
    li.appendChild(body);
    if (item.attachments && item.attachments.length) {
      li.appendChild(el("p", "muted", t("attachments", { names: item.attachments.join(", ") })));
    }
    if (item.options && item.options.length) { renderMenu(item, li, item.kind === "menu" ? "menu" : "choices"); }
    list.appendChild(li);
    return li;
  }

  function updateMenus() {
    Array.prototype.forEach.call(list.querySelectorAll(".menu"), function (group) {
      var open = group.parentNode.id === "item-" + state.openMenu;
      Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) { b.disabled = !open; });
    });
  }

  function showCase(kase) {
    if (!kase) {
      status.textContent = t("idle");
      newCase.hidden = true;
      return;
    }
    var text = t("case", { reference: kase.reference }) + " · " + t("status_" + kase.status);
    if (kase.department) { text += " · " + kase.department; }
    status.textContent = text;
    newCase.hidden = kase.status === "closed";
  }

  function scrollToEnd() {
    var last = list.lastElementChild;
    if (last && last.scrollIntoView) { last.scrollIntoView({ block: "nearest" }); }
  }

  function api(path, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function refresh() {
    return api("/chat/history").then(function (result) {
      if (result.status !== 200) {
        showNotice(result.data.error || t("load_failed"));
        return;
      }
      var data = result.data;
      applyLanguage(data);
      state.csrf = data.csrf;
      state.maxChars = data.max_chars;
      state.openMenu = data.open_menu;
      document.getElementById("intro").textContent = data.intro;
      document.getElementById("privacy").textContent = data.privacy;
      var office = document.getElementById("office-hours");
      office.textContent = data.office || "";
      office.hidden = !data.office;
      if (!nameInput.value && data.name) { nameInput.value = data.name; }
      var added = false;
      data.items.forEach(function (item) { if (render(item)) { added = true; } });
      updateMenus();
      showCase(data.case);
      if (added) { scrollToEnd(); }
    });
  }

  function post(path, payload, attempt) {
    attempt = attempt || 0;
    return api(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": state.csrf },
      body: JSON.stringify(payload)
    }).catch(function (error) {
      // A lost connection: send again with the same event id; the bridge keeps only one copy.
      if (attempt < 3) {
        return new Promise(function (resolve) { setTimeout(resolve, 1000 * (attempt + 1)); })
          .then(function () { return post(path, payload, attempt + 1); });
      }
      throw error;
    });
  }

  function send(text) {
    var eventId = uuid();
    var item = { id: "c-" + eventId, who: "citizen", kind: "citizen", text: text, at: new Date().toISOString() };
    var li = render(item);
    li.classList.add("sending");
    scrollToEnd();
    sendButton.disabled = true;
    return post("/chat/send", { event_id: eventId, text: text, name: nameInput.value })
      .then(function (result) {
        if (result.status === 200) {
          li.classList.remove("sending");
          showNotice("");
          return refresh();
        }
        li.remove();
        state.seen.delete(item.id);
        if (!input.value) { input.value = text; }
        showNotice(result.data.error || t("send_failed"));
        return null;
      })
      .catch(function () {
        li.classList.add("failed");
        showNotice(t("connection_lost"));
      })
      .then(function () { sendButton.disabled = false; });
  }

  function choose(key, group, again) {
    Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) { b.disabled = true; });
    post("/chat/choose", { event_id: uuid(), choice: key, name: nameInput.value }).then(function (result) {
      if (result.status !== 200) { showNotice(result.data.error || t("choice_failed")); }
      if (again) { Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) { b.disabled = false; }); }
      return refresh();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      showNotice(t("empty"));
      input.focus();
      return;
    }
    if (text.length > state.maxChars) {
      showNotice(t("too_long", { length: text.length, limit: state.maxChars }));
      return;
    }
    input.value = "";
    send(text);
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  newCase.addEventListener("click", function () {
    post("/chat/new", { event_id: uuid(), name: nameInput.value }).then(function (result) {
      if (result.status !== 200) { showNotice(result.data.error || t("try_again")); }
      return refresh();
    });
  });

  // The command buttons (status, help): the same as typing the word, on every platform.
  Array.prototype.forEach.call(document.querySelectorAll("[data-command]"), function (button) {
    button.addEventListener("click", function () { send(button.dataset.command); });
  });

  languageSelect.addEventListener("change", function () {
    post("/chat/language", { event_id: uuid(), language: languageSelect.value, name: nameInput.value })
      .then(function (result) {
        if (result.status !== 200) { showNotice(result.data.error || t("try_again")); }
        return refresh();
      });
  });

  document.querySelector(".skip").addEventListener("click", function (event) {
    event.preventDefault();
    input.focus();
  });

  function listen() {
    var source = new EventSource("/chat/events");
    state.source = source;
    source.onopen = function () { refresh(); };
    source.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "message" && render(data.item)) { scrollToEnd(); }
      refresh();
    };
  }

  refresh().then(listen);
})();
