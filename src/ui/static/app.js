/* global document, window, fetch, setTimeout */
// The dashboard's only script, and optional: every page works without it. It refreshes the live pages (overview,
// first page of events) by fetching their <main> again, and pauses while the tab is hidden or the reader is
// typing in a form on the page.
'use strict';

(function () {
  const main = document.querySelector('main[data-live]');
  if (!main) return;
  const interval = Number(main.getAttribute('data-live')) || 5000;

  function busy() {
    const active = document.activeElement;
    return active && main.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
  }

  async function refresh() {
    if (document.hidden || busy()) return true;
    const res = await fetch(window.location.href, {
      headers: { 'x-skyrelay-fragment': 'main' },
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (res.status === 401) {
      const p = document.createElement('p');
      p.className = 'error';
      p.setAttribute('role', 'alert');
      p.textContent = 'Your session ended: reload the page to sign in again.';
      main.prepend(p);
      return false;
    }
    // The server escaped everything it put in this markup; it is the same markup a reload would show.
    if (res.ok) main.innerHTML = await res.text();
    return true;
  }

  function schedule() {
    setTimeout(function () {
      refresh().then(
        function (again) {
          if (again) schedule();
        },
        function () {
          schedule();
        },
      );
    }, interval);
  }
  schedule();
})();
