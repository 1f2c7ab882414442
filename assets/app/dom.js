// Small helpers to build DOM safely: text always goes in as text, never as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  return put(node, ...children);
}

// Appends children the way `el` does: null, undefined and false are skipped, arrays are
// flattened. Use this instead of the browser's own `append`, which prints "null".
export function put(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function decimal(text) {
  return text ? String(text).replace('.', ',') : '';
}

export function date(text) {
  if (!text) return '';
  const [y, m, d] = String(text).slice(0, 10).split('-');
  return d && m && y ? `${d}.${m}.${y}` : text;
}

export const RESOURCES = {
  cold_water: 'Холодная вода',
  hot_water: 'Горячая вода',
  electricity: 'Электроэнергия',
  gas: 'Газ',
  heat: 'Отопление',
};

export const UNITS = { m3: 'м³', kWh: 'кВт·ч', Gcal: 'Гкал' };

export const KINDS = { flat: 'Квартира', room: 'Комната', nonresidential: 'Нежилое помещение' };
