// Progressive enhancement for the search, profile and Merkliste pages. Every page works
// without this file: the list is the whole result, and the Merkliste buttons are plain
// forms. With it, the map appears and the Merkliste changes without a page load.
(function () {
  'use strict';

  function announce(text) {
    var live = document.getElementById('live');
    if (live) { live.textContent = text; }
  }

  // Leaflet treats attributions as HTML; ours come from the city's rules and are text.
  function escapeHTML(s) {
    var d = document.createElement('div');
    d.textContent = s;
    return d.innerHTML;
  }

  function initMap() {
    var el = document.getElementById('map');
    if (!el || !window.L || !el.dataset.tiles) { return; }
    var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
    if (isNaN(lat) || isNaN(lon)) { return; }
    el.hidden = false;
    // The map pins this page's results; the caption says so beside the total.
    if (el.dataset.caption) {
      var caption = document.createElement('p');
      caption.className = 'map-caption';
      caption.textContent = el.dataset.caption;
      el.parentNode.insertBefore(caption, el.nextSibling);
    }
    var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], parseInt(el.dataset.zoom, 10) || 13);
    var failed = false;
    L.tileLayer(el.dataset.tiles, { attribution: escapeHTML(el.dataset.attribution || ''), maxZoom: 19 })
      .on('tileerror', function () {
        if (failed) { return; }
        failed = true;
        var note = document.createElement('p');
        note.className = 'notice map-note';
        note.textContent = el.dataset.tilesFailed || '';
        el.parentNode.insertBefore(note, el.nextSibling);
      })
      .addTo(map);

    var pin = function (status) {
      return L.divIcon({ className: 'pin pin-' + status, iconSize: [26, 26], iconAnchor: [13, 24] });
    };
    if (el.dataset.marker) { // a profile: one facility
      L.marker([lat, lon], { icon: pin('free'), title: el.dataset.marker, keyboard: false }).addTo(map);
      return;
    }
    var points = [];
    if (el.dataset.radiusKm) {
      L.circle([lat, lon], { radius: parseFloat(el.dataset.radiusKm) * 1000, weight: 1, fill: false }).addTo(map);
      points.push([lat, lon]);
    }
    document.querySelectorAll('.result[data-lat]').forEach(function (item) {
      var p = [parseFloat(item.dataset.lat), parseFloat(item.dataset.lon)];
      points.push(p);
      // Markers repeat the list, which stays the accessible way through the result.
      L.marker(p, { icon: pin(item.dataset.status), title: item.dataset.name, keyboard: false })
        .on('click', function () {
          item.scrollIntoView({ block: 'center' });
          item.focus();
        })
        .addTo(map);
    });
    if (points.length > 1) { map.fitBounds(points, { padding: [24, 24], maxZoom: 16 }); }
  }

  function initFavourites() {
    document.addEventListener('submit', function (ev) {
      var form = ev.target;
      if (!form.classList || !form.classList.contains('fav-form') || !window.fetch) { return; }
      ev.preventDefault();
      var button = form.querySelector('button');
      var action = form.querySelector('input[name=action]');
      // form.action would be the input named "action": read the attribute.
      fetch(form.getAttribute('action'), {
        method: 'POST',
        headers: { 'Accept': 'application/json' },
        body: new URLSearchParams(new FormData(form)),
        credentials: 'same-origin'
      }).then(function (res) {
        if (!res.ok) { throw new Error(res.status); }
        return res.json();
      }).then(function (list) {
        var added = action.value === 'add';
        action.value = added ? 'remove' : 'add';
        button.setAttribute('aria-pressed', added ? 'true' : 'false');
        var labels = button.closest('[data-add]'); // the button, or the list it belongs to
        button.firstChild.textContent = added ? labels.dataset.remove : labels.dataset.add;
        var link = document.getElementById('favourites-link');
        if (link) { link.textContent = link.textContent.replace(/\d+/, String(list.count)); }
        announce(button.firstChild.textContent);
      }).catch(function () {
        form.submit(); // fall back to the plain form
      });
    });
  }

  // On a wide screen the folded search form has room beside the results: open it.
  function openSearchOnWideScreens() {
    var again = document.getElementById('search-again');
    if (again && window.matchMedia('(min-width: 64em)').matches) { again.open = true; }
  }

  initMap();
  initFavourites();
  openSearchOnWideScreens();
}());
