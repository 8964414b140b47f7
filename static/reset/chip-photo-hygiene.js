// The chip photo (base64 JP2) waits in sessionStorage "myna.chipPhoto" between the chip read and
// the face check only (docs/wizard.md). Any page without the face check means the resident left
// that step (done, cancelled, gave up, timed out): drop the photo, so it does not stay in the tab
// for whoever uses this browser next (a shared or staff-assisted terminal).
if (!document.getElementById("face-check")) {
  try {
    sessionStorage.removeItem("myna.chipPhoto");
  } catch {
    /* storage unavailable: nothing was kept there */
  }
}
