// Building DOM without innerHTML: every text goes through a text node.

export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      node.className = value;
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Empties `node`, then appends `children` the way `h` does.
export function clear(node, ...children) {
  while (node.firstChild) node.firstChild.remove();
  append(node, children);
  return node;
}

// Appends children the way `h` does: null, undefined and false are skipped, arrays are
// flattened. Use this instead of the browser's own `append`, which prints "null".
export function put(node, ...children) {
  append(node, children);
  return node;
}

const numberFormat = new Intl.NumberFormat('ru-RU');
export const num = (n) => numberFormat.format(n || 0);

const dateTime = new Intl.DateTimeFormat('ru-RU', { dateStyle: 'short', timeStyle: 'short' });
export function when(text) {
  if (!text) return '—';
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : dateTime.format(d);
}

export function errorBox(error) {
  return h('p', { class: 'error', role: 'alert' }, error.message || 'Что-то пошло не так.');
}

// A screen's heading with an optional note.
export function heading(title, note) {
  return h('header', { class: 'screen-head' }, h('h1', {}, title), note ? h('p', { class: 'note' }, note) : null);
}
