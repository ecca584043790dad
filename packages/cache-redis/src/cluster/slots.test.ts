import { describe, expect, it } from 'vitest';
import { SLOT_COUNT, crc16, keySlot } from './slots';

const slotOfText = (text: string): number => crc16(Buffer.from(text, 'utf8')) % SLOT_COUNT;

describe('keySlot', () => {
  it('uses CRC16/XMODEM, whose check value for "123456789" is 0x31C3', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(crc16(Buffer.alloc(0))).toBe(0);
  });

  it('hashes the whole key when it has no hash tag', () => {
    expect(keySlot('foo')).toBe(slotOfText('foo'));
    expect(keySlot(':1:user')).toBe(slotOfText(':1:user'));
  });

  it('hashes only a non-empty {hash tag}, the first one', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('{user1000}.following')).toBe(slotOfText('user1000'));
    expect(keySlot('foo{bar}{zap}')).toBe(slotOfText('bar'));
    expect(keySlot('foo{{bar}}zap')).toBe(slotOfText('{bar'));
  });

  it('hashes the whole key when the first tag is empty or unclosed', () => {
    expect(keySlot('foo{}{bar}')).toBe(slotOfText('foo{}{bar}'));
    expect(keySlot('foo{bar')).toBe(slotOfText('foo{bar'));
  });

  it('hashes non-ASCII keys by their UTF-8 bytes', () => {
    for (const key of ['café', 'ключ', '键{标签}', '🔑']) expect(keySlot(key)).toBe(slotOfText(key.includes('{') ? '标签' : key));
  });
});
