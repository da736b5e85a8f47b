/** The roles a bearer token can carry (README: Authentication), weakest first. */
export const ROLES = ['viewer', 'operator', 'ingest', 'admin'] as const;
export type Role = (typeof ROLES)[number];
