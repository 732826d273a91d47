// The portal's tiny view helper: DOM nodes are built with createElement and textContent only.
// API data (names, descriptions, labels) is attacker-controlled: it never reaches innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function apply(node, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "on") {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (key === "text") {
      node.textContent = String(value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "value") {
      node.value = String(value);  // textarea and select too, where an attribute would not do
    } else if (key === "ref") {
      value(node);
    } else if (key in node && typeof value !== "string" && !(node instanceof SVGElement)) {
      node[key] = value;  // properties such as checked, disabled, value
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  return node;
}

/** ``h("a", {href: "/x", class: "link"}, "text", child)``: an element with text children. */
export function h(tag, props, ...children) {
  return append(apply(document.createElement(tag), props), children);
}

/** The same for SVG elements (charts). */
export function s(tag, props, ...children) {
  return append(apply(document.createElementNS(SVG_NS, tag), props), children);
}

/** Replace the children of ``node``. */
export function mount(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}
