// The request form's list of wishes, moved in place: "nach oben" and "nach unten" swap a
// facility with its neighbour without a page load; the form's fields follow the new
// order, the focus stays on the pressed button (or its twin once the facility reached
// an end of the list) and #shortlist-live tells where it is now. Without this file the
// buttons send the form and the server draws the list in the new order; "entfernen"
// and "Liste prüfen" always do.
(function () {
  'use strict';
  var root = document.getElementById('shortlist');
  if (!root) { return; }
  var live = document.getElementById('shortlist-live');

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function announce(text) {
    if (!live) { return; }
    // The same words twice in a row are announced again only after a change.
    live.textContent = '';
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  // renumber gives the list's fields the list's slots in the new order, the ranks their
  // words, and the first and last item's buttons their ends.
  function renumber(list) {
    var items = Array.prototype.slice.call(list.children).filter(function (li) { return li.classList.contains('pick'); });
    var slots = items.map(function (li) {
      return parseInt(li.querySelector('input[type=hidden][name^="choice."]').name.slice(7), 10);
    }).sort(function (a, b) { return a - b; });
    items.forEach(function (li, i) {
      li.querySelector('input[type=hidden][name^="choice."]').name = 'choice.' + slots[i];
      var rank = li.querySelector('.pick-rank');
      if (rank && list.dataset.rank) { rank.textContent = fill(list.dataset.rank, { rank: i + 1 }); }
      li.querySelector('button[data-move=up]').disabled = i === 0;
      li.querySelector('button[data-move=down]').disabled = i === items.length - 1;
      li.removeAttribute('id'); // an error of the old order no longer points here
    });
    return items;
  }

  root.addEventListener('click', function (ev) {
    var button = ev.target.closest('button[data-move]');
    if (!button || !root.contains(button)) { return; }
    var item = button.closest('li.pick');
    var list = item && item.parentNode;
    if (!list) { return; }
    ev.preventDefault();
    var up = button.dataset.move === 'up';
    var other = up ? item.previousElementSibling : item.nextElementSibling;
    if (!other) {
      announce(fill(up ? root.dataset.top : root.dataset.bottom, { facility: item.dataset.name }));
      return;
    }
    list.insertBefore(up ? item : other, up ? other : item);
    var items = renumber(list);
    var focus = button.disabled ? item.querySelector('button[data-move=' + (up ? 'down' : 'up') + ']') : button;
    focus.focus();
    announce(fill(root.dataset.moved, { facility: item.dataset.name, rank: items.indexOf(item) + 1, count: items.length }));
  });
}());
