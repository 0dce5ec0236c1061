/*
 * Line bookkeeping for stored output. Each chunk is stored with the 1-based numbers of the lines
 * holding its first and last character, so a range of lines is read from the few chunks that
 * overlap it. A chunk that starts right after a newline starts a new line; one that follows a
 * last line without its newline continues that line.
 */

/** What is stored so far: lines, and whether the last one still waits for its newline. */
export interface OutputLineState {
  lines: number;
  /** The last stored line has no newline yet, so the next chunk continues it. */
  lastLineOpen: boolean;
}

export const EMPTY_OUTPUT: OutputLineState = { lines: 0, lastLineOpen: false };

export function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/** Where a non-empty chunk lands after `before`, and the state after it. */
export function placeChunk(
  before: OutputLineState,
  chunk: string,
): { startLine: number; endLine: number; after: OutputLineState } {
  const startLine = before.lastLineOpen ? before.lines : before.lines + 1;
  const endsWithNewline = chunk.endsWith('\n');
  // A final newline belongs to the line it ends; every other newline starts the next line.
  const endLine = startLine + countNewlines(chunk) - (endsWithNewline ? 1 : 0);
  return { startLine, endLine, after: { lines: endLine, lastLineOpen: !endsWithNewline } };
}

/**
 * Lines `from`..`to` (1-based, already clipped to what is stored) out of the concatenated chunks
 * that overlap them, the first of which starts on line `firstLine`. That first chunk may begin in
 * the middle of line `firstLine` only when firstLine < from (all chunks holding a part of line
 * `from` are included), so any cut-off line is one not asked for.
 */
export function sliceLines(text: string, firstLine: number, from: number, to: number): string[] {
  if (to < from) return [];
  const lines: string[] = [];
  let line = firstLine;
  let start = 0;
  while (line <= to) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    if (line >= from) lines.push(text.slice(start, end));
    if (newline === -1) break;
    start = newline + 1;
    line++;
  }
  return lines;
}
