// KiKonect's service worker: the app shell opens without a network ("You are offline" instead of the browser's
// error page). Navigations try the network first and fall back to the cached page; the built assets (named by
// their content hash, so never stale) come from the cache once fetched. The API is never cached: what the app
// shows is always the server's.
const CACHE = 'kikonect-shell-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(['/app/', '/app/manifest.webmanifest', '/app/icon.svg'])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname.startsWith('/app')) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          const copy = response.clone();
          if (response.ok) caches.open(CACHE).then((cache) => cache.put('/app/', copy));
          return response;
        })
        .catch(() => caches.match('/app/')),
    );
    return;
  }
  if (url.pathname.startsWith('/app/assets/') || url.pathname === '/app/icon.svg' || url.pathname === '/app/manifest.webmanifest') {
    event.respondWith(
      caches.match(request).then(
        (hit) =>
          hit ||
          fetch(request).then((response) => {
            const copy = response.clone();
            if (response.ok) caches.open(CACHE).then((cache) => cache.put(request, copy));
            return response;
          }),
      ),
    );
  }
});

// Browser notifications for failed runs (Web Push): KiKonect sends {title, body, url, run_id, workflow_id},
// encrypted for this browser; a click opens (or focuses) the app on that run.
self.addEventListener('push', (event) => {
  let message = { title: 'KiKonect', body: 'A run failed', url: '/app/' };
  try {
    message = { ...message, ...event.data.json() };
  } catch {
    // not JSON: show the default text
  }
  event.waitUntil(
    self.registration.showNotification(message.title, {
      body: message.body,
      tag: message.run_id ? `run-${message.run_id}` : undefined,
      icon: '/app/icon.svg',
      data: { url: message.url },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || '/app/';
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).pathname.startsWith('/app'));
      if (open) return open.navigate(url).then((w) => (w || open).focus());
      return self.clients.openWindow(url);
    }),
  );
});
