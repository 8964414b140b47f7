// myna-reset service worker: caches the static shell and the offline page, nothing else.
// Never cached: evidence, nonces, reservations, the calendar file, anything under /ws/ or /admin/,
// and every non-GET request (architecture.md: nothing personal may linger in a cache).
const CACHE = "{{ cache_version|escapejs }}";
const SHELL = [{% for url in shell %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
const OFFLINE_URL = "{{ offline_url|escapejs }}";
const NEVER = [/^\/reset\//, /^\/ws\//, /^\/admin\//, /^\/kiosk\//, /^\/i18n\//];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const never = NEVER.some((pattern) => pattern.test(url.pathname));
  if (!never && SHELL.includes(url.pathname)) {
    // Shell files: the cache first, refreshed in the background.
    event.respondWith(
      caches.open(CACHE).then((cache) => cache.match(request).then((hit) => {
        const fresh = fetch(request).then((response) => {
          if (response.ok) cache.put(request, response.clone());
          return response;
        }).catch(() => hit);
        return hit || fresh;
      })),
    );
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
  }
});
