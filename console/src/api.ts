/** The service's HTTP API as the console uses it; the token travels in the Authorization header. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  constructor(readonly token: string | null) {}

  private headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = {};
    if (this.token !== null) h.authorization = `Bearer ${this.token}`;
    if (json) h['content-type'] = 'application/json';
    return h;
  }

  async get<T>(path: string): Promise<T> {
    return this.answer<T>(await fetch(path, { headers: this.headers(false), cache: 'no-store' }));
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.answer<T>(await fetch(path, { method: 'POST', headers: this.headers(true), body: JSON.stringify(body) }));
  }

  /** EventSource cannot send headers: the alert stream also takes ?access_token=. */
  streamUrl(): string {
    return this.token === null ? '/v1/alerts/stream' : `/v1/alerts/stream?access_token=${encodeURIComponent(this.token)}`;
  }

  private async answer<T>(res: Response): Promise<T> {
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, error?.code ?? 'HTTP', error?.message ?? `${res.status} ${res.statusText}`);
    }
    return body as T;
  }
}
