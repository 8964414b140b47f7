// Registers the service worker (served from / so its scope covers the site).
// A module script has no document.currentScript: find the tag by its data-sw attribute.
const script = document.querySelector("script[data-sw]");
const url = script ? script.dataset.sw : "/sw.js";
if ("serviceWorker" in navigator && url) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register(url, { scope: "/" }).catch(() => {
      // Offline support is a convenience; the wizard works without it.
    });
  });
}
