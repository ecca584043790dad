import type { ChangeTracking } from '@cachette/cache-core';
import type { ConnectionOptions } from './connection';
import type { RespArgument } from './resp/encoder';
import type { RespValue } from './resp/decoder';

/**
 * `CLIENT TRACKING ON` for a session. `NOLOOP`: a connection is not told of its own writes (the
 * cache that made them knows). `BCAST`: every change under the prefixes is announced, instead of
 * only the keys this connection read.
 */
function trackingCommand(tracking: ChangeTracking): RespArgument[] {
  const command: RespArgument[] = ['CLIENT', 'TRACKING', 'ON', 'NOLOOP'];
  if (tracking.broadcastPrefixes !== undefined) {
    command.push('BCAST');
    for (const prefix of tracking.broadcastPrefixes) command.push('PREFIX', prefix);
  }
  return command;
}

/** `>2 invalidate [keys]` (or `invalidate null` after a flush) as `onInvalidate` wants it. */
function readInvalidation(message: RespValue[], onInvalidate: ChangeTracking['onInvalidate']): void {
  if (message.length !== 2 || String(message[0]) !== 'invalidate') return;
  const keys = message[1];
  if (keys === null) onInvalidate(null);
  else if (Array.isArray(keys)) onInvalidate(keys.map((key) => String(key)));
}

/**
 * What every connection of a tracking cache adds to its options: RESP3 (invalidations arrive as
 * push messages on the connection that read the keys, in order with its replies), tracking
 * switched on in each session's handshake, and a lost session reported as "anything may have
 * changed", since the server forgets what that connection tracked.
 */
export function trackingConnectionOptions(tracking: ChangeTracking, options: ConnectionOptions): ConnectionOptions {
  if (typeof tracking?.onInvalidate !== 'function') throw new TypeError('Redis option tracking needs an onInvalidate(keys) function');
  if (options.protocol === 2) {
    throw new TypeError('Redis option tracking needs RESP3 (invalidations are push messages): leave protocol unset or set it to 3');
  }
  const { onPush, onSessionEnd, setupCommands = [] } = options;
  return {
    ...options,
    protocol: 3,
    setupCommands: [...setupCommands, trackingCommand(tracking)],
    onPush: (message) => {
      readInvalidation(message, tracking.onInvalidate);
      onPush?.(message);
    },
    onSessionEnd: () => {
      tracking.onInvalidate(null);
      onSessionEnd?.();
    },
  };
}
