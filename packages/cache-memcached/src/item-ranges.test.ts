import { CacheProtocolError } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import { ItemPlacer, ItemRanges } from './item-ranges';

const source = Buffer.from('..alpha..beta..gamma');
/** A key as the text decoder names it. */
const named = (key: string) => ({ key, matches: (asked: string) => asked === key });
const text = (ranges: ItemRanges): Array<string | null> => ranges.map((flags, data, start, end) => `${flags}:${data.toString('latin1', start, end)}`, null);

describe('ItemPlacer', () => {
  it('places items in key order, skipping the keys not found and matching repeated keys in turn', () => {
    const keys = ['a', 'missing', 'b', 'a'];
    const ranges = new ItemRanges(keys.length);
    const placer = new ItemPlacer(ranges, keys, undefined);
    placer.place(named('a'), 1, source, 2, 7);
    placer.place(named('b'), 2, source, 9, 13);
    placer.place(named('a'), 3, source, 15, 20);
    expect(text(ranges)).toEqual(['1:alpha', null, '2:beta', '3:gamma']);
  });

  it('places one server\'s items at their positions among all the keys asked for', () => {
    const ranges = new ItemRanges(4);
    const first = new ItemPlacer(ranges, ['x', 'z'], Int32Array.of(1, 3));
    const second = new ItemPlacer(ranges, ['w', 'y'], Int32Array.of(0, 2));
    first.place(named('z'), 0, source, 9, 13);
    second.placeAt(0, 4294967295, source, 2, 7);
    expect(text(ranges)).toEqual(['4294967295:alpha', null, null, '0:beta']);
  });

  it('finds a key answered out of the order asked', () => {
    const ranges = new ItemRanges(3);
    const placer = new ItemPlacer(ranges, ['a', 'b', 'c'], undefined);
    placer.place(named('c'), 0, source, 2, 7);
    placer.place(named('a'), 0, source, 9, 13);
    expect(text(ranges)).toEqual(['0:beta', null, '0:alpha']);
  });

  it('rejects an item for a key or a request index not asked for', () => {
    const placer = new ItemPlacer(new ItemRanges(1), ['a'], undefined);
    expect(() => placer.place(named('b'), 0, source, 0, 1)).toThrow(CacheProtocolError);
    expect(() => placer.placeAt(1, 0, source, 0, 1)).toThrow(CacheProtocolError);
  });
});
