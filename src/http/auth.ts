/**
 * Bearer-token roles (DESIGN §6): `viewer` reads, `operator` reads and acknowledges and
 * resolves alerts, `ingest` posts events, `admin` does all. Tokens are compared in
 * constant time: both sides are hashed to equal length first, then compared with
 * crypto.timingSafeEqual, and every configured token is compared on every request so
 * the time taken does not reveal which one nearly matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Role, TokenIdentity } from '../config.js';

export type Action = 'read' | 'operate' | 'ingest';

const ALLOWED: Record<Role, ReadonlySet<Action>> = {
  viewer: new Set(['read']),
  operator: new Set(['read', 'operate']),
  ingest: new Set(['ingest']),
  admin: new Set(['read', 'operate', 'ingest']),
};

/** The least role that may perform an action, for the 403 message. */
export const ROLE_FOR: Record<Action, Role> = { read: 'viewer', operate: 'operator', ingest: 'ingest' };

export function mayPerform(role: Role, action: Action): boolean {
  return ALLOWED[role].has(action);
}

export class TokenVerifier {
  private readonly entries: Array<{ digest: Buffer; identity: TokenIdentity }>;

  constructor(tokens: ReadonlyMap<string, TokenIdentity>) {
    this.entries = [...tokens].map(([token, identity]) => ({ digest: digest(token), identity }));
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** Who a presented token is (role and name), or undefined. */
  identify(presented: string): TokenIdentity | undefined {
    const d = digest(presented);
    let found: TokenIdentity | undefined;
    for (const e of this.entries) if (timingSafeEqual(d, e.digest) && found === undefined) found = e.identity;
    return found;
  }

  /** The role of a presented token, or undefined. */
  roleOf(presented: string): Role | undefined {
    return this.identify(presented)?.role;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Extracts the token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
