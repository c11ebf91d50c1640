// Shared plumbing for the fake services in test/support: listen on an ephemeral 127.0.0.1 port,
// read request bodies, answer JSON, and close without waiting for keep-alive sockets (the real
// clients pool connections, so a plain server.close() would hang until they time out).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackListener {
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function listenOnLoopback(
  handler: (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void>,
): Promise<LoopbackListener> {
  const server = http.createServer((request, response) => {
    handler(request, response).catch((error: unknown) => {
      // A bug in a fake must surface in the test as a 500 with the reason, not as a hung request.
      const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'text/plain' });
      }
      response.end(`fake server error: ${reason}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export function sendEmpty(
  response: http.ServerResponse,
  status: number,
  headers: http.OutgoingHttpHeaders = {},
): void {
  response.writeHead(status, { 'content-length': 0, ...headers });
  response.end();
}

/** The credential in `authorization: token X` or `authorization: Bearer X`, or undefined. */
export function bearerOrToken(authorization: string | undefined): string | undefined {
  const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}
