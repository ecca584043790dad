/**
 * A check of one query value of a server URL: what is wrong with `value`, or `undefined`.
 * Each driver lists the values it would refuse only on connecting, or not at all: pg checks
 * `sslnegotiation` when it connects, with a plain Error; mysql2 throws for a bad
 * `maxPreparedStatements` after opening its socket and before listening for the socket's errors,
 * so the refused connection's error would be unhandled and end the process.
 */
export type UrlValueRule = (value: string) => string | undefined;

export function oneOf(...allowed: string[]): UrlValueRule {
  return (value) => (allowed.includes(value) ? undefined : `must be ${allowed.map((choice) => `'${choice}'`).join(' or ')}`);
}

export const positiveInteger: UrlValueRule = (value) => (/^[1-9]\d*$/.test(value) ? undefined : 'must be a positive integer');

export const filePath: UrlValueRule = (value) => (value.includes('\0') ? 'must be a file path (it holds a NUL character)' : undefined);
