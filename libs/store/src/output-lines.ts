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

/**
 * Characters a stored chunk holds at most (a longer line stays whole): a page of lines is read
 * from the few chunks it overlaps, so one large append (a burst of output, a big `cat`) must not
 * become one row that every later page reads again in full.
 */
export const STORED_CHUNK_CHARS = 16 * 1024;

/** One row of job_output: a piece of an appended chunk and the lines of its first and last character. */
export interface StoredChunk {
  chunk: string;
  startLine: number;
  endLine: number;
}

/**
 * An appended text as the rows it is stored in: cut after a newline once a piece reaches
 * `maxChars`, and numbered back from `endLine`, the line its last character is on (what
 * placeChunk says of the whole text). Every piece but the last ends with a newline, so each
 * next piece starts a line of its own.
 */
export function storedChunks(text: string, endLine: number, maxChars = STORED_CHUNK_CHARS): StoredChunk[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; ) {
    let cut = text.length;
    if (text.length - start > maxChars) {
      const before = text.lastIndexOf('\n', start + maxChars - 1);
      const after = before >= start ? before : text.indexOf('\n', start + maxChars);
      if (after !== -1) cut = after + 1;
    }
    pieces.push(text.slice(start, cut));
    start = cut;
  }
  const rows: StoredChunk[] = [];
  let end = endLine;
  for (let i = pieces.length - 1; i >= 0; i--) {
    const piece = pieces[i];
    const startLine = end - countNewlines(piece) + (piece.endsWith('\n') ? 1 : 0);
    rows.unshift({ chunk: piece, startLine, endLine: end });
    end = startLine - 1;
  }
  return rows;
}
