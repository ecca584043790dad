// Failures to reach or log in to the database, as each driver reports them. Anything else (a
// constraint, a missing table, a syntax error) is passed on as the driver's own error.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const MYSQL_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_HOST_NOT_PRIVILEGED',
]);
const SQLITE_CODES = new Set(['SQLITE_CANTOPEN', 'SQLITE_NOTADB']);
// PostgreSQL SQLSTATE classes: 08 connection exception, 28 invalid authorization, 3D no such
// database, 57P0x server shutting down.
const POSTGRES_STATE = /^(08|28|3D|57P0)/;
const POSTGRES_CLIENT_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Connection ended/i;

// A file the driver reads to connect (pg reads a URL's sslcert, sslkey and sslrootcert on each
// connection) that is missing or unreadable: this connection cannot be made, a later one may.
const FILE_CODES = new Set(['ENOENT', 'EACCES', 'EISDIR']);

export function isConnectionFailure(error: unknown): boolean {
  const { code, message, syscall } = (error ?? {}) as { code?: unknown; message?: unknown; syscall?: unknown };
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || MYSQL_CODES.has(code) || SQLITE_CODES.has(code)) return true;
    if (FILE_CODES.has(code) && syscall === 'open') return true;
    // A host name that does not resolve, whatever the resolver's reason (EINVAL for a name it cannot ask about).
    if (syscall === 'getaddrinfo') return true;
    if (code.length === 5 && POSTGRES_STATE.test(code)) return true;
  }
  return typeof message === 'string' && POSTGRES_CLIENT_MESSAGES.test(message);
}

/** A MySQL/MariaDB statement the cache did not send: the server would refuse it, then drop the connection. */
export class StatementTooLargeError extends Error {
  constructor(readonly packetBytes: number, readonly maxAllowedPacket: number) {
    super(`the statement is ${packetBytes} bytes, over the server's max_allowed_packet (${maxAllowedPacket}), so it was not sent`);
    this.name = 'StatementTooLargeError';
  }
}

// A statement the database refuses for its size: MySQL/MariaDB's max_allowed_packet, SQLite's
// length limit, PostgreSQL's SQLSTATE 54000 (program limit exceeded, such as a 1 GB field).
const TOO_LARGE_CODES = new Set(['ER_NET_PACKET_TOO_LARGE', 'SQLITE_TOOBIG', '54000']);

export function isValueTooLarge(error: unknown): boolean {
  if (error instanceof StatementTooLargeError) return true;
  const { code } = (error ?? {}) as { code?: unknown };
  return typeof code === 'string' && TOO_LARGE_CODES.has(code);
}

// A statement the database rolled back whole to break a deadlock (MySQL/MariaDB's 1213, PostgreSQL's
// 40P01), a serialization failure (40001) or a lock wait that timed out (1205; autocommit rolls the
// statement back): nothing of it was applied, so sending it again is safe.
const CONFLICT_CODES = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', '40P01', '40001']);

export function isRolledBackConflict(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return typeof code === 'string' && CONFLICT_CODES.has(code);
}
