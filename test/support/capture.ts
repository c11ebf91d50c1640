// Captures what a command writes to stdout/stderr during a test (restore with vi.restoreAllMocks).
import { vi } from 'vitest';

export function capture(stream: NodeJS.WriteStream): () => string {
  const chunks: string[] = [];
  vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return () => chunks.join('');
}
