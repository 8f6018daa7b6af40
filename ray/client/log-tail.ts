/**
 * Following a job's logs over the head's WebSocket endpoint (`/api/jobs/{id}/logs/tail`): the head
 * sends each new chunk of log text as a text message and closes the socket once the job has ended
 * and its last lines are sent. Node 20 has no global WebSocket (it is behind a flag until Node 22),
 * so this uses `ws`.
 */
import WebSocket from 'ws';
import { RayBadRequestError, RayJobNotFoundError, RayServerError, RayUnauthorizedError, RayUnreachableError, type RayClientError } from './errors.js';

export interface TailOptions {
  /** Stop following (the iteration ends quietly). */
  signal?: AbortSignal;
}

export async function* tailLogs(address: string, submissionId: string, headers: Record<string, string>, options: TailOptions = {}): AsyncGenerator<string> {
  const path = `/api/jobs/${encodeURIComponent(submissionId)}/logs/tail`;
  const label = `GET ${path} (WebSocket)`;
  const url = new URL(path, address);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  // No permessage-deflate: the head's dashboard proxies this socket to a subprocess and forwards
  // the client's handshake headers, so the subprocess would agree to compress while the proxy's
  // own end cannot inflate; the proxy then drops every message and closes (seen on Ray 2.60).
  const socket = new WebSocket(url, { headers, perMessageDeflate: false });

  const chunks: string[] = [];
  let ended = false;
  let failure: RayClientError | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  socket.on('message', (data) => {
    chunks.push(data.toString());
    notify();
  });
  socket.on('close', () => {
    ended = true;
    notify();
  });
  socket.on('unexpected-response', (_req, res) => {
    const status = res.statusCode ?? 0;
    let body = '';
    res.on('data', (c: Buffer) => { body += c.toString(); });
    res.on('end', () => {
      failure = status === 404 ? new RayJobNotFoundError(submissionId, label)
        : status === 401 || status === 403 ? new RayUnauthorizedError(status, body.trim(), label)
          : status >= 400 && status < 500 ? new RayBadRequestError(status, body.trim(), label)
            : new RayServerError(status, body.trim(), label);
      ended = true;
      notify();
    });
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    failure ??= new RayUnreachableError(new URL(address).origin, label, `${err.code ?? 'error'}: ${err.message}`, { cause: err });
    ended = true;
    notify();
  });
  const onAbort = () => socket.terminate();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      while (chunks.length > 0) yield chunks.shift()!;
      if (ended) break;
      await new Promise<void>((resolve) => { wake = resolve; });
    }
    while (chunks.length > 0) yield chunks.shift()!;
    if (failure && !options.signal?.aborted) throw failure;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
  }
}
