// High-contrast and large-text mode (issue 18), remembered by this browser. Only the preference
// is stored (localStorage "myna.display" = "contrast"), nothing about the resident.
// A classic script in <head>, so the mode applies before the first paint (no flash of the default).
(function () {
  var KEY = "myna.display";
  var root = document.documentElement;

  function stored() {
    try { return window.localStorage.getItem(KEY) === "contrast"; } catch (e) { return false; }
  }

  function apply(on) {
    root.classList.toggle("high-contrast", on);
    var button = document.getElementById("display-toggle");
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
  }

  apply(stored());
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("display-toggle");
    if (button) {
      apply(stored());
      button.hidden = false; // without this script the button could do nothing
      button.addEventListener("click", function () {
        var on = !root.classList.contains("high-contrast");
        try {
          if (on) window.localStorage.setItem(KEY, "contrast");
          else window.localStorage.removeItem(KEY);
        } catch (e) { /* storage refused: the mode still applies to this page */ }
        apply(on);
      });
    }
    // Focus moves to what changed: a message the server put on this page (an error, a timeout).
    var messages = document.querySelector("main .messages");
    if (messages) {
      messages.setAttribute("tabindex", "-1");
      messages.focus();
    }
  });
})();
