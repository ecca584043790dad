import { createRequire } from 'node:module';
import { join } from 'node:path';
import { InvalidCacheBackendError } from '@cachette/cache-core';

/**
 * Loads an optional peer dependency: from the application's directory first (where it is
 * installed under pnpm's strict layout), then from this package's. A missing package is an
 * error that says what to install.
 */
export function loadDriverPackage<T>(packageName: string, forWhat: string): T {
  const origins = [join(process.cwd(), 'noop.js'), import.meta.url];
  let lastError: unknown;
  for (const origin of origins) {
    try {
      return createRequire(origin)(packageName) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      lastError = error;
    }
  }
  throw new InvalidCacheBackendError(`The ${forWhat} cache needs the '${packageName}' package: install it with \`npm install ${packageName}\``, {
    cause: lastError,
  });
}
