/* focus.js: keeping focus across live updates, for lists redrawn as the room changes.
 *
 * Live updates (an upvote anywhere) redraw the lists. A card or poll whose data did not change
 * keeps its node; nodes are put in order without moving the one that holds focus (dom.js's
 * arrange); and a control that had focus in a redrawn item gets it back in the new one (same
 * data-action, same place). */

export function focusIn(container, itemSelector) {
  var active = document.activeElement;
  if (!active || active === document.body || !container.contains(active)) return null;
  var item = active.closest(itemSelector);
  if (!item || item.parentNode !== container) return null;
  var path = [];
  for (var node = active; node !== item; node = node.parentNode) {
    path.unshift(Array.prototype.indexOf.call(node.parentNode.children, node));
  }
  return { element: active, item: item, id: item.dataset.id, path: path, action: active.dataset.action || null, tag: active.tagName };
}

export function restoreFocus(container, itemSelector, saved) {
  if (!saved || document.activeElement === saved.element) return;
  if (document.contains(saved.element)) { saved.element.focus({ preventScroll: true }); return; }
  var item = Array.prototype.filter.call(container.children, function (child) {
    return child.matches(itemSelector) && child.dataset.id === saved.id;
  })[0];
  if (!item) return;
  var target = item;
  saved.path.forEach(function (index) { target = target && target.children[index]; });
  var same = target && target.tagName === saved.tag && (target.dataset.action || null) === saved.action;
  if (!same && saved.action) target = item.querySelector('[data-action="' + saved.action + '"]');
  if (target && target.tagName === saved.tag) target.focus({ preventScroll: true });
}
