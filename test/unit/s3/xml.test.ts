/**
 * The S3 door's request XML (DeleteObjects, CompleteMultipartUpload): well-formed documents parse
 * with their text unescaped; anything else is MalformedXML (400), never a 500 and never a stalled
 * event loop — a long unterminated tag is refused at once, and a character reference outside XML's
 * characters is refused rather than thrown as a RangeError.
 */
import { describe, expect, it } from 'vitest';
import { childrenNamed, parseXml, xmlDocument } from '../../../src/s3/xml.js';

const malformed = { code: 'MalformedXML' };

describe('parseXml', () => {
  it('parses elements, attributes, self-closing tags, comments and entities', () => {
    const doc = parseXml(
      '<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<!-- two keys --><Object><Key>a&amp;b &#x263A; &#65;</Key></Object>' +
        '<Object><Key>c</Key><VersionId/></Object><Quiet>true</Quiet></Delete>',
    );
    expect(doc.name).toBe('Delete');
    const keys = childrenNamed(doc, 'Object').map((o) => childrenNamed(o, 'Key')[0]?.text);
    expect(keys).toEqual(['a&b ☺ A', 'c']);
  });

  it.each([
    ['an unclosed element', '<Delete><Object></Delete>'],
    ['text outside the root', 'x<Delete/>'],
    ['two roots', '<A/><B/>'],
    ['a doctype', '<!DOCTYPE x [<!ENTITY e "e">]><A>&e;</A>'],
    ['a code point past U+10FFFF', '<A>&#x110000;</A>'],
    ['a huge decimal reference', '<A>&#99999999;</A>'],
    ['a surrogate', '<A>&#xD800;</A>'],
    ['a NUL', '<A>&#0;</A>'],
    ['a raw NUL', '<A>a\u0000b</A>'],
    ['a raw control character', '<A>a\u0001b</A>'],
  ])('refuses %s as MalformedXML', (_name, text) => {
    expect(() => parseXml(text)).toThrow(expect.objectContaining(malformed));
  });

  it('refuses a megabyte-long unterminated tag without stalling', () => {
    // Quadratic matching would take minutes on this input: the test would time out.
    expect(() => parseXml(`<${'a'.repeat(1024 * 1024)}`)).toThrow(
      expect.objectContaining(malformed),
    );
    expect(() => parseXml(`<A ${'b'.repeat(1024 * 1024)}`)).toThrow(
      expect.objectContaining(malformed),
    );
  });
});

describe('xmlDocument', () => {
  it('writes a character XML forbids as U+FFFD: the answer stays a document', () => {
    const text = xmlDocument('Error', { Message: 'no "a\u0000b\u001f" \uFFFF here & <there>' });
    expect(text).toContain(
      '<Message>no &quot;a\uFFFDb\uFFFD&quot; \uFFFD here &amp; &lt;there&gt;</Message>',
    );
  });
});
