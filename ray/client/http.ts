/**
 * HTTP to a Ray head, with retries on transient failures only.
 *
 * Built on node:http, not the global fetch: fetch (undici) adds `Sec-Fetch-Mode: cors` to every
 * request, and Ray's dashboard takes any request with a Sec-Fetch-* header for a browser's and
 * refuses its POSTs and DELETEs (HTTP 405, "method not allowed for browser traffic": a guard
 * against DNS rebinding) and redacts its `runtime_env`.
 *
 * Transient: the connection refused, reset or timed out; HTTP 502/503/504 (a proxy in front of the
 * head); HTTP 500 "No available agent to submit job" (the head's agent is still starting). Nothing
 * else is retried: a 4xx or another 500 will not change by asking again.
 */
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { RayUnreachableError } from './errors.js';

export interface RetryPolicy {
  /** Tries in all (1 = no retry). */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialDelayMs: 200, maxDelayMs: 2000 };

export interface HttpAnswer {
  status: number;
  body: Buffer;
  /** How many tries it took (> 1: an earlier try failed transiently, and may still have reached the head). */
  tries: number;
  text(): string;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  json?: unknown;
  body?: Buffer;
  timeoutMs?: number;
}

/** Connection errors worth another try; anything else (a bad host name, TLS) is final at once. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);

export function isTransientStatus(status: number, text: string): boolean {
  return status === 502 || status === 503 || status === 504 || (status === 500 && text.includes('No available agent'));
}

class TimeoutError extends Error {
  code = 'ETIMEDOUT';
}

export class HttpTransport {
  private readonly base: URL;

  constructor(address: string, private readonly headers: Record<string, string>, private readonly timeoutMs: number, private readonly retry: RetryPolicy) {
    this.base = new URL(address);
  }

  get address(): string {
    return this.base.origin;
  }

  /** One request, retried on transient failures; throws RayUnreachableError when no try got an answer. */
  async request(spec: RequestSpec): Promise<HttpAnswer> {
    const label = `${spec.method} ${spec.path}`;
    let delay = this.retry.initialDelayMs;
    for (let tries = 1; ; tries++) {
      const last = tries >= this.retry.attempts;
      try {
        const { status, body } = await this.once(spec);
        const answer: HttpAnswer = { status, body, tries, text: () => body.toString('utf8') };
        if (last || !isTransientStatus(status, answer.text())) return answer;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (last || !TRANSIENT_CODES.has(code)) {
          throw new RayUnreachableError(this.address, label, `${code || 'error'}: ${(err as Error).message}${tries > 1 ? ` (after ${tries} tries)` : ''}`, { cause: err });
        }
      }
      await sleep(delay);
      delay = Math.min(delay * 2, this.retry.maxDelayMs);
    }
  }

  private once(spec: RequestSpec): Promise<{ status: number; body: Buffer }> {
    const url = new URL(spec.path, this.base);
    const payload = spec.json !== undefined ? Buffer.from(JSON.stringify(spec.json)) : spec.body;
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers };
    if (payload) {
      headers['content-type'] = spec.json !== undefined ? 'application/json' : 'application/octet-stream';
      headers['content-length'] = String(payload.length);
    }
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: spec.method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.setTimeout(spec.timeoutMs ?? this.timeoutMs, () => req.destroy(new TimeoutError(`no answer within ${spec.timeoutMs ?? this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
