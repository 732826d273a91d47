// A tiny safe Markdown renderer: a small subset (headings, paragraphs, lists, code, emphasis,
// http(s) links) turned into DOM nodes with textContent. Raw HTML in the source stays text.
import { h } from "./dom.js";

// Underscore emphasis only between word boundaries, as in CommonMark (snake_case stays text).
const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|(?<!\w)_[^_\s][^_]*_(?!\w))|(\[[^\]]+\]\([^)\s]+\))/;

function inline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    const found = INLINE.exec(rest);
    if (!found) { out.push(rest); break; }
    if (found.index) out.push(rest.slice(0, found.index));
    const token = found[0];
    if (found[1]) out.push(h("code", {}, token.slice(1, -1)));
    else if (found[2]) out.push(h("strong", {}, inline(token.slice(2, -2))));
    else if (found[3]) out.push(h("em", {}, inline(token.slice(1, -1))));
    else {
      const [, label, href] = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(token);
      out.push(/^https?:\/\//i.test(href)
        ? h("a", { href, rel: "noopener noreferrer nofollow", target: "_blank" }, label)
        : label);
    }
    rest = rest.slice(found.index + token.length);
  }
  return out;
}

/** Markdown ``source`` as an array of block nodes. */
export function renderMarkdown(source) {
  const blocks = [];
  const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.startsWith("```")) {
      const code = [];
      for (i += 1; i < lines.length && !lines[i].startsWith("```"); i += 1) code.push(lines[i]);
      blocks.push(h("pre", {}, h("code", {}, code.join("\n"))));
      i += 1;
    } else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(6, line.indexOf(" ") + 2);  // page h1/h2 come first
      blocks.push(h("h" + Math.min(level, 6), {}, inline(line.replace(/^#+\s+/, ""))));
      i += 1;
    } else if (/^\s*([-*+]|\d+\.)\s+/.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items = [];
      for (; i < lines.length && /^\s*([-*+]|\d+\.)\s+/.test(lines[i]); i += 1) {
        items.push(h("li", {}, inline(lines[i].replace(/^\s*([-*+]|\d+\.)\s+/, ""))));
      }
      blocks.push(h(ordered ? "ol" : "ul", {}, items));
    } else if (!line.trim()) {
      i += 1;
    } else {
      const para = [];
      for (; i < lines.length && lines[i].trim() && !/^(#{1,6}\s|```|\s*([-*+]|\d+\.)\s)/
        .test(lines[i]); i += 1) para.push(lines[i]);
      blocks.push(h("p", {}, inline(para.join(" "))));
    }
  }
  return blocks;
}
