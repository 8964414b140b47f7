// Time that can be extended (WCAG 2.2.1) for the wizard pages (templates/reset/_session_timer.html).
// The server owns the deadline (reset/wizard_state.py); this page only counts down from the
// seconds it was told, warns in a modal alert dialog (focus moved into it, so it is announced),
// and asks the server for more time. Nothing reloads: the step and what was typed stay.
const dialog = document.getElementById("time-dialog");
const $ = (id) => document.getElementById(id);

if (dialog && typeof dialog.showModal === "function") {
  const warnMs = Number(dialog.dataset.warnSeconds) * 1000;
  let deadline = Date.now() + Number(dialog.dataset.secondsLeft) * 1000;
  let dismissedUntil = 0; // "閉じる": not shown again until the time is up
  let expired = false;
  let returnFocus = null;

  const format = (ms) => {
    const total = Math.max(0, Math.ceil(ms / 1000));
    return dialog.dataset.format
      .replace("{m}", String(Math.floor(total / 60)))
      .replace("{s}", String(total % 60));
  };

  const open = () => {
    if (dialog.open) return;
    returnFocus = document.activeElement;
    dialog.showModal();
    // An alertdialog is announced when focus enters it; the button is what the resident needs.
    (expired ? $("time-restart") : $("time-extend")).focus();
  };

  const close = () => {
    if (!dialog.open) return;
    dialog.close();
    // Back where the resident was; if that is gone, to the heading of the step now shown.
    const shown = (el) => el && el.isConnected && el.offsetParent !== null;
    const heading = [...document.querySelectorAll("main h1")].find(shown);
    const back = shown(returnFocus) ? returnFocus : heading || document.getElementById("main");
    if (back) back.focus();
  };

  const showExpired = () => {
    expired = true;
    $("time-dialog-title").textContent = dialog.dataset.expiredTitle;
    $("time-dialog-left").hidden = true;
    $("time-dialog-advice").hidden = true;
    $("time-dialog-expired").hidden = false;
    $("time-extend").hidden = true;
    $("time-close").hidden = true;
    $("time-restart").hidden = false;
    if (dialog.open) $("time-restart").focus(); else open();
  };

  const tick = () => {
    if (expired) return;
    const left = deadline - Date.now();
    $("time-left").textContent = format(left);
    if (left <= 0) { showExpired(); return; }
    if (left <= warnMs && Date.now() >= dismissedUntil) open();
  };

  const dismiss = () => { dismissedUntil = deadline; close(); };
  $("time-close").addEventListener("click", dismiss);
  // Escape is "閉じる" too, except once the time is up: then only the way back remains.
  dialog.addEventListener("cancel", (event) => { event.preventDefault(); if (!expired) dismiss(); });

  $("time-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    $("time-dialog-error").textContent = "";
    $("time-extend").disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
      });
      const body = await response.json();
      if (body.ok) {
        deadline = Date.now() + body.seconds_left * 1000;
        dismissedUntil = 0;
        close();
        $("time-announce").textContent = dialog.dataset.extended
          .replace("{m}", String(Math.floor(body.seconds_left / 60)));
        tick();
      } else if (body.reason === "expired_session") {
        showExpired();
      } else {
        // extension_limit or rate_limited: say so; the countdown goes on to its end.
        $("time-dialog-error").textContent = body.message;
        $("time-extend").hidden = true;
        $("time-close").focus();
      }
    } catch {
      $("time-dialog-error").textContent = dialog.dataset.failed;
    } finally {
      $("time-extend").disabled = false;
    }
  });

  tick();
  setInterval(tick, 1000);
}
