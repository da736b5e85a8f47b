/**
 * NDJSON: one CloudEvent per line (what `huitian replay` sends and `huitian simulate`
 * writes). Cutting the text into records is written once, here, so the HTTP ingest and
 * the recovery log — which keeps an NDJSON body as received and decodes it again on a
 * restart — always see the same records.
 */
import { decodeJson, type Decoded } from './decode.js';

/**
 * Calls `visit` with each non-blank line (trimmed), its index among those lines, and
 * its decoding. Never throws on bad input: a line that is not JSON, or breaks the record
 * bounds (json-records.ts), is a refusal.
 */
export function decodeNdjson(text: string, visit: (index: number, line: string, decoded: Decoded) => void): void {
  let index = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    visit(index++, line, decodeJson(line));
  }
}
