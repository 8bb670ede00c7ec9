/* The web desk: reloads the inbox (its view, counts and rows) or the open case's conversation when the bridge
   reports a change, in whichever process it happened. */
"use strict";

(function () {
  var body = document.body;
  var page = body.dataset.page;
  var reference = body.dataset.reference || null;
  var note = document.getElementById("live-note");
  var pending = null;

  function replaceRegions(ids, announcement) {
    // The same view, department and search as the page shows (the query string), fresh from the server.
    fetch(window.location.pathname + window.location.search, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ids.forEach(function (id) {
          var current = document.getElementById(id);
          var next = fresh.getElementById(id);
          if (current && next) { current.replaceWith(document.importNode(next, true)); }
        });
        if (note && announcement) { note.textContent = announcement; }
      });
  }

  function changed(event) {
    if (page === "list") {
      return ["case-list"];
    }
    if (page === "case" && event.reference === reference) {
      return ["conversation", "case-facts", "earlier-cases"];
    }
    if (page === "consultation" && event.reference === reference) {
      return ["consultation-results"];
    }
    return null;
  }

  function later(ids, announcement) {
    clearTimeout(pending);
    pending = setTimeout(function () { replaceRegions(ids, announcement); }, 150);
  }

  // After an action the page comes back with a notice: put focus there, so screen readers say what happened.
  var notice = document.querySelector("main .notice");
  if (notice) {
    notice.tabIndex = -1;
    notice.focus();
  }

  // Ctrl+Enter (Cmd+Enter on a Mac) in a text box sends its form, as in the chat.
  Array.prototype.forEach.call(document.querySelectorAll("form textarea"), function (box) {
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && box.form) {
        event.preventDefault();
        box.form.requestSubmit();
      }
    });
  });

  // A consultation's results page follows its departments' results events (answers arriving, closing).
  if (page === "consultation") {
    var results = new EventSource("/desk/consultations/events");
    results.onopen = function () { later(["consultation-results"], null); };
    results.onmessage = function (message) {
      if (changed(JSON.parse(message.data))) { later(["consultation-results"], "The results were updated."); }
    };
    return;
  }

  if (page !== "list" && page !== "case") { return; }
  var source = new EventSource("/desk/events");
  // What changed between rendering this page and (re)connecting was not heard: catch up once.
  source.onopen = function () {
    later(page === "list" ? ["case-list"] : ["conversation", "case-facts", "earlier-cases"], null);
  };
  source.onmessage = function (message) {
    var ids = changed(JSON.parse(message.data));
    if (ids) { later(ids, page === "list" ? "The case list was updated." : "New activity on this case."); }
  };
})();
