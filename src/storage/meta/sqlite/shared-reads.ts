import { Socket } from 'node:net';

/**
 * When requests may share one read of a wal-index counter ({@link WalIndexCounter}) instead of each
 * taking its own (issue 12: on a kernel with page-table isolation and no PCID, as the bench machine
 * has, every system call flushes the TLB; the counter's `pread` was ~15 % of a manifest GET).
 *
 * What must hold: a request sees every commit that finished before its client sent it — a tag moved
 * through another worker is seen by the next GET in this one. A read of the counter taken after the
 * request's first byte was sent gives that.
 *
 * Reads are shared within a "turn": it opens when a request arrives on a plain TCP connection and
 * ends at the next check phase of the event loop (`setImmediate`). Node's HTTP parser consumes a
 * plain TCP socket in C++ and emits `request` only from the socket's read callback, so a turn
 * opens in a poll phase, after the `epoll_wait` that reported its readable sockets; every read
 * stored in the turn is taken after that `epoll_wait` returned. A request arriving in the turn
 * either had its first byte read from the kernel before the turn opened (sent before the read), or
 * came from a socket that `epoll_wait` reported readable: its earliest unread byte was sent before
 * `epoll_wait` returned. When that byte is this request's first, the request was sent before the
 * read. When it belongs to an earlier request on the same connection (a pipelining client), that
 * earlier request arrived in this turn too, so this one is the connection's second in the turn:
 * that invalidates the shared read, and the next read is taken after this request's bytes.
 *
 * What else ends a shared read: any write through {@link Statements} in this process (a commit by
 * another connection of this process does not wait for the next turn), and a request arriving on a
 * TLS socket or from anything but a socket (TLS can hand over decrypted bytes outside a poll phase,
 * so such requests never open a turn and always invalidate an open one).
 *
 * The argument needs one `epoll_wait` per poll phase. libuv calls it again in the same phase only
 * after one returned 1,024 events, which needs 1,024 ready descriptors; sharing is therefore off while
 * the server holds {@link MAX_SHARING_CONNECTIONS} or more client connections, which leaves room for
 * the process's other descriptors (pools of S3 and PostgreSQL sockets, outgoing requests).
 */
export const MAX_SHARING_CONNECTIONS = 512;

let open = false;
/** Changes whenever reads taken before it may no longer be shared. */
let token = 1;
/** Numbers turns, to know a connection's second request in one. */
let turn = 0;
const kTurn = Symbol('berth.turn');

function endTurn(): void {
  open = false;
  token++;
}

/**
 * Called synchronously from the HTTP server's `request` event, before any handler runs. `socket` is
 * the request's socket, `connections` the number of client connections the server holds.
 */
export function requestArrived(socket: unknown, connections: number): void {
  if (!(socket instanceof Socket) || (socket as { encrypted?: boolean }).encrypted === true || connections >= MAX_SHARING_CONNECTIONS) {
    if (open) endTurn();
    return;
  }
  const s = socket as Socket & { [kTurn]?: number };
  if (!open) {
    open = true;
    turn++;
    token++;
    setImmediate(endTurn);
  } else if (s[kTurn] === turn) {
    token++;
  }
  s[kTurn] = turn;
}

/** A write through this process's SQLite connections: reads taken before it are not shared after it. */
export function wroteLocally(): void {
  token++;
}

/** The token a read taken now may be shared under, or 0 when it may not be shared. */
export function sharingToken(): number {
  return open ? token : 0;
}
