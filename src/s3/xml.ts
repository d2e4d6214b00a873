/**
 * S3's XML (SPEC §13): answers are written from plain trees, request bodies
 * (CompleteMultipartUpload, DeleteObjects) read with a small, bounded parser that knows only
 * elements and text — no attributes are needed, no entities beyond the five predefined and
 * numeric ones, no DTD (a body declaring one is refused: no entity expansion), no character XML
 * forbids (raw or as a reference).
 */
import { S3Error } from './errors.js';

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

export type XmlValue = string | number | boolean | null | undefined | XmlNode | XmlNode[];
export interface XmlNode {
  readonly [name: string]: XmlValue | XmlValue[];
}

/**
 * Characters XML 1.0 forbids (§2.2 Char: control characters but tab and line ends, lone
 * surrogates, U+FFFE/U+FFFF), even as character references.
 */
const FORBIDDEN = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Text as XML character data. A forbidden character (a NUL a request's parameter or path decoded
 * to, echoed back) becomes U+FFFD: an answer is always a document a client can parse.
 */
export function escapeXml(text: string): string {
  return text
    .replace(FORBIDDEN, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function render(name: string, value: XmlValue | XmlValue[], out: string[]): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) render(name, item, out);
    return;
  }
  if (typeof value === 'object') {
    out.push(`<${name}>`);
    for (const [child, childValue] of Object.entries(value)) render(child, childValue, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
}

/** `<?xml …?><root xmlns="…">…</root>` of a tree; arrays repeat their element. */
export function xmlDocument(root: string, body: XmlNode, namespace = true): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  out.push(namespace ? `<${root} xmlns="${S3_NAMESPACE}">` : `<${root}>`);
  for (const [name, value] of Object.entries(body)) render(name, value, out);
  out.push(`</${root}>`);
  return out.join('');
}

/** A parsed element: its children by name (in order) and its text. */
export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  text: string;
}

const MALFORMED = () => new S3Error('MalformedXML', 'The XML you provided was not well-formed.');

/** A character reference's code point, when XML allows it (a Char: no surrogates, ≤ U+10FFFF). */
function character(code: number): string {
  const allowed =
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff);
  if (!allowed) throw MALFORMED();
  return String.fromCodePoint(code);
}

function unescape(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_all, entity: string) => {
    if (entity.startsWith('#x')) return character(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return character(parseInt(entity.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity] ?? '';
  });
}

/** Parses a small XML document (a request body) into elements; throws MalformedXML. */
export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw MALFORMED();
  if (new RegExp(FORBIDDEN.source, 'u').test(text)) throw MALFORMED();
  // Sticky: each token must start where the last ended (no scan ahead), and the name and the
  // attributes cannot share characters (an attribute part starts with white space), so a long
  // unterminated tag is refused in linear time.
  const tokens =
    /<(\/?)([A-Za-z_][\w.:-]*)(?:\s[^>]*?)?(\/?)>|<\?[^>]*\?>|<!--[\s\S]*?-->|([^<]+)/gy;
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack: XmlElement[] = [root];
  let consumed = 0;
  for (const match of text.matchAll(tokens)) {
    if (match.index !== consumed) throw MALFORMED();
    consumed = match.index + match[0].length;
    const [, closing, rawName, selfClosing, chars] = match;
    const top = stack[stack.length - 1] as XmlElement;
    if (chars !== undefined) {
      top.text += unescape(chars);
      continue;
    }
    if (rawName === undefined) continue; // a declaration or a comment
    const name = rawName.replace(/^.*:/, '');
    if (closing) {
      if (top.name !== name || stack.length === 1) throw MALFORMED();
      stack.pop();
      continue;
    }
    const element: XmlElement = { name, children: [], text: '' };
    top.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (consumed !== text.length || stack.length !== 1) throw MALFORMED();
  if (root.text.trim() !== '') throw MALFORMED(); // text outside the root element
  const [document] = root.children.filter(Boolean);
  if (!document || root.children.length !== 1) throw MALFORMED();
  return document;
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

export function childText(element: XmlElement, name: string): string | undefined {
  return childrenNamed(element, name)[0]?.text.trim();
}
