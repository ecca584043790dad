import { createHash } from 'node:crypto';
import { pyStr } from './python-text';

/**
 * The key Django's `{% cache %}` tag stores a template fragment under:
 * `template.cache.<name>.<md5 of str(arg) + ':' for each vary-on argument>`. Arguments are
 * rendered as Python's `str()` would (see `pyStr`), so keys match a Django site's.
 */
export function makeTemplateFragmentKey(fragmentName: string, varyOn?: Iterable<unknown> | null): string {
  const hash = createHash('md5');
  if (varyOn != null) {
    for (const argument of varyOn) {
      hash.update(pyStr(argument), 'utf8');
      hash.update(':');
    }
  }
  return `template.cache.${fragmentName}.${hash.digest('hex')}`;
}
