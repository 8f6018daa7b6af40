/**
 * The client's retry and error mapping, against a scripted HTTP server (answers a real head gives
 * rarely or only under failure: a proxy's 503, a reset connection, a duplicate after a lost answer).
 * client.test.ts covers the same calls against a real Ray head.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RayBadRequestError, RayDuplicateSubmissionError, RayJobClient, RayServerError, RayUnauthorizedError, RayUnreachableError } from '../../ray/client/index.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let server: Server | undefined;
const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];

async function serve(handler: Handler): Promise<RayJobClient> {
  seen.length = 0;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return new RayJobClient({ address: `127.0.0.1:${port}`, token: 'secret', retry: { attempts: 4, initialDelayMs: 5, maxDelayMs: 10 } });
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

const job = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  type: 'SUBMISSION', job_id: null, submission_id: id, status: 'RUNNING', entrypoint: 'x', message: null, error_type: null,
  start_time: 1, end_time: null, metadata: null, runtime_env: null, driver_agent_http_address: null, driver_node_id: null, driver_exit_code: null, ...extra,
});

describe('RayJobClient transport', () => {
  it('sends no Sec-Fetch-* header (the head would refuse a POST as a browser\'s) and sends the token', async () => {
    const client = await serve((_req, _body, res) => res.end(JSON.stringify({ submission_id: 'a', job_id: 'a' })));
    await client.submitJob({ entrypoint: 'true', submission_id: 'a' });
    expect(Object.keys(seen[0].headers).filter((h) => h.startsWith('sec-fetch') || h === 'origin' || h === 'referer')).toEqual([]);
    expect(seen[0].headers.authorization).toBe('Bearer secret');
    expect(seen[0].headers['content-type']).toBe('application/json');
  });

  it('retries 503 and the head\'s "No available agent" 500, then returns the answer', async () => {
    let n = 0;
    const client = await serve((_req, _body, res) => {
      n++;
      if (n === 1) res.writeHead(503).end('proxy: try later');
      else if (n === 2) res.writeHead(500).end('No available agent to submit job, please try again later.');
      else res.end(job('j1'));
    });
    expect((await client.getJob('j1')).submission_id).toBe('j1');
    expect(seen).toHaveLength(3);
  });

  it('does not retry a 4xx or another 500', async () => {
    const client = await serve((_req, _body, res) => res.writeHead(400).end('Traceback ...\nTypeError: entrypoint must be a string'));
    const err = await client.submitJob({ entrypoint: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RayBadRequestError);
    expect((err as RayBadRequestError).detail).toBe('TypeError: entrypoint must be a string');
    expect(seen).toHaveLength(1);

    const failing = await serve((_req, _body, res) => res.writeHead(500).end('Traceback\nKeyError: boom'));
    const server500 = await failing.listJobs().catch((e: unknown) => e);
    expect(server500).toBeInstanceOf(RayServerError);
    expect((server500 as RayServerError).status).toBe(500);
    expect(seen).toHaveLength(1);
  });

  it('maps the head\'s relayed agent 400 to a bad request, and 401 to unauthorized', async () => {
    const client = await serve((req, _body, res) => {
      if (req.url === '/api/jobs/') res.writeHead(500).end('RuntimeError: Request failed with status code 400: ValueError: bad runtime_env.');
      else res.writeHead(401).end('Unauthorized');
    });
    const relayed = await client.submitJob({ entrypoint: 'x' }).catch((e: unknown) => e);
    expect(relayed).toBeInstanceOf(RayBadRequestError);
    expect((relayed as RayBadRequestError).status).toBe(400);
    expect(await client.getJob('x').catch((e: unknown) => e)).toBeInstanceOf(RayUnauthorizedError);
  });

  it('a submission whose first answer was lost finds its own job instead of failing as a duplicate', async () => {
    const submitted: string[] = [];
    const client = await serve((req, body, res) => {
      if (req.method === 'POST') {
        submitted.push(body);
        // The first try reaches the head, which submits, but the connection drops before the answer.
        if (submitted.length === 1) return void res.socket!.destroy();
        return void res.writeHead(500).end('ValueError: Job with submission_id s1 already exists. Please use a different submission_id.');
      }
      res.end(job('s1', { entrypoint: 'train', metadata: { run: 'r' } }));
    });
    expect(await client.submitJob({ entrypoint: 'train', submission_id: 's1', metadata: { run: 'r' } })).toEqual({ submission_id: 's1', job_id: 's1' });
    expect(submitted).toHaveLength(2);

    // Another caller's job under that id (different entrypoint) is a duplicate all the same.
    submitted.length = 0;
    const err = await client.submitJob({ entrypoint: 'other', submission_id: 's1', metadata: { run: 'r' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RayDuplicateSubmissionError);
  });

  it('gives up on a connection that keeps resetting with RayUnreachableError after its tries', async () => {
    const client = await serve((_req, _body, res) => res.socket!.destroy());
    const err = await client.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RayUnreachableError);
    expect((err as RayUnreachableError).reason).toMatch(/ECONNRESET.*after 4 tries/);
    expect(seen).toHaveLength(4);
  });

  it('refuses an address for another protocol and an answer that is not the API\'s', async () => {
    expect(() => new RayJobClient('ray://head:10001')).toThrow(/http\(s\).*not ray:\/\//);
    const client = await serve((_req, _body, res) => res.end('<html>not ray</html>'));
    expect(await client.version().catch((e: unknown) => e)).toBeInstanceOf(RayServerError);
  });
});
