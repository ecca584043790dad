import type { BaseCache } from '../base-cache';
import { publishSwallowedError } from './channels';
import { debugLogger } from './debug';

const debug = debugLogger('outage');

/**
 * For a backend's `ignoreExceptions`: every swallowed error is published on
 * `cachette:swallowed-error`, and one process warning is emitted per outage (until an operation
 * succeeds again), so a server that is down does not flood the log.
 */
export class OutageReporter {
  private inOutage = false;

  constructor(
    private readonly cache: BaseCache,
    private readonly warning: { readonly text: string; readonly type: string },
  ) {}

  recovered(): void {
    this.inOutage = false;
  }

  swallowed(error: unknown): void {
    publishSwallowedError(this.cache, 'ignoreExceptions', error);
    debug('%s swallowed %s', this.cache.constructor.name, error);
    if (this.inOutage) return;
    this.inOutage = true;
    process.emitWarning(`${this.warning.text}: ${error instanceof Error ? error.message : String(error)}`, { type: this.warning.type });
  }
}
