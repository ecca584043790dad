/** A value large enough that a torn write would show: 256 KiB of pseudo-random text seeded by the writer's id. */
export function valueOfWriter(writer: number): { writer: number; payload: string } {
  let state = writer + 1;
  const parts: string[] = [];
  for (let length = 0; length < 256 * 1024; length += parts[parts.length - 1]!.length) {
    state = (state * 1103515245 + 12345) % 2147483648;
    parts.push(state.toString(36));
  }
  return { writer, payload: parts.join('') };
}

export function isValueOfAWriter(value: unknown): boolean {
  const { writer, payload } = value as { writer?: unknown; payload?: unknown };
  return typeof writer === 'number' && payload === valueOfWriter(writer).payload;
}
