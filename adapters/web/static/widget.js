/* Puts the city's web chat on any page.
 *
 *   <script src="https://bridge.example.org/widget.js" defer></script>
 *       a floating "Chat with us" button that opens the chat in a panel;
 *   <script src="https://bridge.example.org/widget.js" data-mode="inline" defer></script>
 *       the chat itself, in place of the script tag.
 * Optional: data-label="Ask the city" (button text), data-height="32rem" (inline height).
 */
"use strict";

(function () {
  var script = document.currentScript;
  if (!script) { return; }
  var origin = new URL(script.src, window.location.href).origin;
  var label = script.dataset.label || "Chat with us";

  function frame(height) {
    var iframe = document.createElement("iframe");
    iframe.src = origin + "/?embed=1";
    iframe.title = label;
    iframe.style.border = "1px solid #c9ced6";
    iframe.style.borderRadius = "0.5rem";
    iframe.style.width = "100%";
    iframe.style.height = height;
    iframe.style.background = "#ffffff";
    return iframe;
  }

  if (script.dataset.mode === "inline") {
    script.parentNode.insertBefore(frame(script.dataset.height || "36rem"), script);
    return;
  }

  var panel = document.createElement("div");
  panel.id = "civic-bridge-chat";
  panel.hidden = true;
  panel.style.position = "fixed";
  panel.style.right = "1rem";
  panel.style.bottom = "4.5rem";
  panel.style.width = "min(26rem, calc(100vw - 2rem))";
  panel.style.zIndex = "2147483000";
  panel.style.boxShadow = "0 0.5rem 2rem rgba(0, 0, 0, 0.25)";
  panel.style.borderRadius = "0.5rem";
  panel.appendChild(frame("min(40rem, calc(100vh - 6rem))"));

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", panel.id);
  button.style.position = "fixed";
  button.style.right = "1rem";
  button.style.bottom = "1rem";
  button.style.zIndex = "2147483000";
  button.style.font = "inherit";
  button.style.fontSize = "1rem";
  button.style.padding = "0.75rem 1.25rem";
  button.style.border = "0";
  button.style.borderRadius = "2rem";
  button.style.background = "#0b4f8a";
  button.style.color = "#ffffff";
  button.style.cursor = "pointer";
  button.addEventListener("click", function () {
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) { panel.querySelector("iframe").focus(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });

  document.body.appendChild(panel);
  document.body.appendChild(button);
})();
