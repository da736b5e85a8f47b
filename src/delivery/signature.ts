/**
 * Webhook signatures: `X-Huitian-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
 * with `X-Huitian-Timestamp: <Unix seconds>` (the scheme Stripe and Slack use). The
 * timestamp is inside the MAC, so a receiver that refuses old timestamps (5 minutes) is
 * safe from a replayed call; each retry is signed afresh. docs/examples/verify-signature.mjs
 * is the check a receiver runs (the README shows it; a test runs it against this).
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-huitian-signature';
export const TIMESTAMP_HEADER = 'x-huitian-timestamp';

export function signBody(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}
