/**
 * Reading JSON records safely, one at a time: the bounds every record is held to before
 * it is parsed, and cutting a JSON array body into the texts of its elements.
 *
 * Why bounds here: `JSON.parse` is iterative and takes any nesting, but much of what may
 * later touch a parsed value is recursive (`JSON.stringify`, loggers, structured clone),
 * and an array element nested 5,000 levels deep once overflowed the stack while being
 * saved as a dead letter, failing its whole request and every valid neighbour with it.
 * So a record nested deeper than any event of the contract could be, or larger than one
 * record may be, is refused on its own with a reason — never parsed further.
 *
 * Why cut arrays by hand: each element is parsed, decoded and (when refused) kept as the
 * text it arrived as, so a dead letter is the record received, not a re-encoding of it,
 * and an element that is not even JSON costs only itself.
 */
/**
 * Deepest nesting of objects and arrays a record may have. An event of the contract is
 * two levels deep (the envelope, its `data`); 64 leaves room for any extension while
 * staying far below what recursive code can take.
 */
export const MAX_RECORD_DEPTH = 64;

/** Largest record (UTF-8 bytes), whatever the transport: Kafka's default message size. */
export const MAX_RECORD_BYTES = 1024 * 1024;

const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

export const DEPTH_REASON = `(event): nested deeper than ${MAX_RECORD_DEPTH} levels`;
export const SIZE_REASON = `(event): larger than ${MAX_RECORD_BYTES} bytes, the limit of one record`;

/** UTF-8 length of `text` compared with MAX_RECORD_BYTES, without encoding a record that is clearly small. */
function tooLarge(text: string): boolean {
  if (text.length > MAX_RECORD_BYTES) return true;
  // A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4).
  if (text.length * 3 <= MAX_RECORD_BYTES) return false;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 2 : 3;
  }
  return bytes > MAX_RECORD_BYTES;
}

/**
 * The deepest nesting of objects and arrays in `text` (a JSON value), ignoring brackets
 * inside strings. Counts structure only; whether the text is JSON is JSON.parse's to say.
 */
export function nestingDepth(text: string, start = 0, end = text.length): number {
  let depth = 0;
  let max = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i, end);
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) max = depth;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return max;
}

/** Index of the quote closing the string opened at `open`, or `end` when it never closes. */
function stringEnd(text: string, open: number, end: number): number {
  for (let i = open + 1; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return end;
}

/** How many times `char` occurs in `text`, counted natively and only up to `limit` + 1. */
function countUpTo(text: string, char: string, limit: number): number {
  let n = 0;
  for (let i = text.indexOf(char); i >= 0 && n <= limit; i = text.indexOf(char, i + 1)) n++;
  return n;
}

/**
 * Why one record's text is refused before parsing, or undefined. Cheap for an ordinary
 * event: nesting cannot exceed the count of `{` and `[`, which indexOf counts natively,
 * so only a text with more than MAX_RECORD_DEPTH of them is scanned.
 */
export function recordTextProblem(text: string): string | undefined {
  if (tooLarge(text)) return SIZE_REASON;
  const braces = countUpTo(text, '{', MAX_RECORD_DEPTH);
  if (braces + countUpTo(text, '[', MAX_RECORD_DEPTH - braces) > MAX_RECORD_DEPTH && nestingDepth(text) > MAX_RECORD_DEPTH) {
    return DEPTH_REASON;
  }
  return undefined;
}

export type ArrayCut = { ok: true; elements: string[] } | { ok: false; reason: string };

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Cuts the text of a JSON array (`[` … `]`, whitespace around) into the texts of its
 * top-level elements, trimmed. Only the array's own brackets, commas and strings are
 * read: an element that is not valid JSON is still one element (JSON.parse refuses it
 * alone), so only an array whose own structure is broken — unterminated, text after it —
 * is refused as a whole. An empty element (`[a,,b]`, a trailing comma) is the empty text.
 */
export function cutJsonArray(text: string): ArrayCut {
  let i = 0;
  const n = text.length;
  while (i < n && isWhitespace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== OPEN_BRACKET) return { ok: false, reason: 'not a JSON array' };
  const elements: string[] = [];
  let depth = 0;
  let elementStart = i + 1;
  let closed = -1;
  for (i = i + 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i, n);
      if (i === n) return { ok: false, reason: 'invalid JSON (unterminated string)' };
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) {
        if (c !== CLOSE_BRACKET) return { ok: false, reason: 'invalid JSON (unbalanced brackets)' };
        closed = i;
        break;
      }
      depth--;
    } else if (c === COMMA && depth === 0) {
      elements.push(text.slice(elementStart, i).trim());
      elementStart = i + 1;
    }
  }
  if (closed < 0) return { ok: false, reason: 'invalid JSON (the array is not closed)' };
  const last = text.slice(elementStart, closed).trim();
  // `[]` has no element; `[a,]` has an empty last one.
  if (last !== '' || elements.length > 0) elements.push(last);
  for (i = closed + 1; i < n; i++) {
    if (!isWhitespace(text.charCodeAt(i))) return { ok: false, reason: 'invalid JSON (text after the array)' };
  }
  return { ok: true, elements };
}
