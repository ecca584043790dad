/** A stream that gives the chunks already read, then the rest of `reader`. */
function replay(chunks: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next < chunks.length) {
        controller.enqueue(chunks[next]!);
        chunks[next++] = undefined as never;
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

function concatenate(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * The whole body when it has at most `limit` bytes; otherwise a response that streams the same
 * bytes (those read so far, then the rest) without holding them all.
 */
export async function readBodyUpTo(response: Response, limit: number): Promise<Uint8Array | Response> {
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) return response;
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concatenate(chunks, size);
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) return new Response(replay(chunks, reader), response);
  }
}
