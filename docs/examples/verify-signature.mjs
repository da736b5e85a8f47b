// Checks a huitian-brain webhook call (Node.js ≥ 18, no dependencies).
// `rawBody` is the request body exactly as received (a string or Buffer), before any JSON parsing.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function verifyHuitianSignature(secret, headers, rawBody, nowSeconds = Math.floor(Date.now() / 1000)) {
  const timestamp = Number(headers['x-huitian-timestamp']);
  const signature = String(headers['x-huitian-signature'] ?? '');
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > 300) return false; // a replayed or stale call
  const expected = 'v1=' + createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// Then drop repeats: the service delivers at least once, and each call carries
// `Idempotency-Key` (alert id:version, or the notification id of a group).
