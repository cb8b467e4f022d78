/* dom.js: building the page without innerHTML (questions are hostile input: everything shown to
 * people is set with textContent), the page's JSON blocks, notices, and drawing once per task. */

export function readJSON(id) {
  var node = document.getElementById(id);
  if (!node) return {};
  try {
    return JSON.parse(node.textContent || "{}") || {};
  } catch (e) {
    return {};
  }
}

/* el("p", {class: "x", text: "..."}, child, ...): DOM without innerHTML. */
export function el(tag, attrs) {
  var node = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    });
  }
  for (var i = 2; i < arguments.length; i++) {
    var child = arguments[i];
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/* A small button, as the console's cards and polls have many. */
export function button(label, onclick, extra) {
  return el("button", Object.assign({ type: "button", class: "button button-small", text: label, onclick: onclick }, extra || {}));
}

/* A short message at the bottom of the page that fades away. */
export function notice(text, kind) {
  var box = document.getElementById("notices");
  if (!box) return;
  var item = el("p", { class: "notice" + (kind ? " notice-" + kind : ""), role: kind === "error" ? "alert" : "status", text: text });
  box.appendChild(item);
  setTimeout(function () {
    item.classList.add("notice-leaving");
    setTimeout(function () { item.remove(); }, 400);
  }, kind === "error" ? 6000 : 4000);
}

/* Several messages in one task are drawn once. */
export function scheduler(render) {
  var pending = false;
  return function () {
    if (pending) return;
    pending = true;
    setTimeout(function () {
      pending = false;
      render();
    }, 16);
  };
}

/* Every list on the pages is drawn the same way: each item keeps its node (cached by the page, by
 * id), and this puts the nodes into container in order, moving as few as possible (a moved node
 * loses focus and restarts its transitions) and never `keep` (the focused one, say), and removes
 * the children that are no longer among them. */
export function arrange(container, nodes, keep) {
  var wanted = new Set(nodes);
  Array.prototype.slice.call(container.children).forEach(function (child) { if (!wanted.has(child)) child.remove(); });
  var at = keep ? nodes.indexOf(keep) : -1;
  nodes.forEach(function (node, index) {
    if (index === at) {
      while (container.children[index] !== node) container.appendChild(container.children[index]);
      return;
    }
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
  });
}

/* The data-* attributes of a page's own <script type="module"> tag: call with import.meta.url
 * (a module has no document.currentScript). */
export function scriptData(moduleUrl) {
  var path = new URL(moduleUrl).pathname;
  var script = document.querySelector('script[src="' + path + '"]');
  return script ? script.dataset : {};
}
