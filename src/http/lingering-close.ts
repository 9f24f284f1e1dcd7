import type { Socket } from 'node:net';

/**
 * An answer sent before the request body has arrived (413 for a body over the limit, 400 for a
 * JSON body, a 429) closes the connection: the rest of the body is never read. Node ends such a
 * connection by destroying the socket as soon as the answer is written; request bytes still
 * arriving then make the kernel reset the connection, and a client still uploading (Node's fetch,
 * curl without `Expect: 100-continue`) reports ECONNRESET or EPIPE instead of the answer.
 *
 * This closes it the way nginx's `lingering_close` and Apache do: the answer, then a half-close
 * (FIN), then reading and discarding what the client still sends until it closes its side —
 * which a client does once it has read the answer — bounded in bytes and time, so a client that
 * keeps sending cannot hold the connection.
 */
export interface LingerLimits {
  /** bytes read after the answer beyond which the connection is cut */
  maxBytes: number;
  /** time after the answer beyond which the connection is cut */
  maxMs: number;
}

export const LINGER_LIMITS: LingerLimits = { maxBytes: 8 * 1024 * 1024, maxMs: 5000 };

const lingering = Symbol('sei-auth.lingering');

type LingeringSocket = Socket & { [lingering]?: true; destroySoon?: () => void };

/**
 * Makes the close that follows the current response a lingering one. Node's HTTP server closes a
 * `Connection: close` response's socket with `destroySoon()` (end, then destroy once written):
 * this socket's gets the lingering variant instead.
 */
export function lingerAfterAnswer(socket: Socket, limits: LingerLimits = LINGER_LIMITS): void {
  const s = socket as LingeringSocket;
  if (s[lingering] || s.destroyed) return;
  s[lingering] = true;
  s.destroySoon = () => {
    const readBefore = s.bytesRead;
    // The answer goes out first, then the FIN; the socket stays readable (HTTP servers allow
    // half-open sockets), and Node discards the unread request body as it arrives.
    s.end();
    const cut = () => s.destroy();
    const deadline = setTimeout(cut, limits.maxMs);
    // The HTTP parser reads the socket natively (no 'data' events): poll the byte count.
    const meter = setInterval(() => {
      if (s.bytesRead - readBefore > limits.maxBytes) cut();
    }, 50);
    deadline.unref();
    meter.unref();
    // The client closed its side after reading the answer: everything it sent has been read,
    // so closing now resets nothing. (Sockets with autoDestroy also close by themselves here.)
    s.once('end', () => {
      if (!s.destroyed && s.writableFinished) s.destroy();
    });
    s.once('close', () => {
      clearTimeout(deadline);
      clearInterval(meter);
    });
  };
}
