import { request, type Dispatcher } from 'undici';

/** What the SDK's document fetches need from a transport: an optional undici dispatcher (custom CA, proxy). */
export interface FetchOptions {
  /** undici dispatcher for these requests (e.g. an `Agent` trusting a private CA). Defaults to undici's global one. */
  dispatcher?: Dispatcher;
  /** Give up on a request after this many milliseconds (as jose's `timeoutDuration`). Default 10 000. */
  timeoutDuration?: number;
}

export interface FetchedDocument {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Public documents are small; a larger answer is an attack or a misconfiguration, not data. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

export async function fetchDocument(
  url: string,
  options: FetchOptions & { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: Buffer | string },
): Promise<FetchedDocument> {
  const timeout = options.timeoutDuration ?? 10_000;
  const response = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      response.body.destroy();
      throw new Error(`${url}: response body larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) };
}

export function headerValue(headers: FetchedDocument['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The media type without parameters, lower-cased (`application/json; charset=utf-8` → `application/json`). */
export function mediaType(headers: FetchedDocument['headers']): string {
  return (headerValue(headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}
