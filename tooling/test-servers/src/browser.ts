import { existsSync } from 'node:fs';
import { skipOrRequire } from './availability.js';

/** Debian's Chromium (`apt-get install chromium`), or `CACHETTE_CHROMIUM`: never a downloaded browser. */
export function chromiumPath(): string {
  return process.env.CACHETTE_CHROMIUM?.trim() || '/usr/bin/chromium';
}

/** The flags a root, sandbox-less, offline machine needs (no GPU, no background connections). */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze(['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']);

/** Undefined when Chromium can be run; otherwise why not (printed once), or a throw under CACHETTE_REQUIRE_SERVERS=1. */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(chromiumPath())) return undefined;
  return skipOrRequire('chromium', `${chromiumPath()} not found (apt-get install chromium, or set CACHETTE_CHROMIUM)`);
}
