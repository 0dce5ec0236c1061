import { countNewlines, EMPTY_OUTPUT, OutputLineState, placeChunk, sliceLines, storedChunks } from './output-lines';

/** Places chunks one after another, as appendOutput does. */
function placeAll(chunks: string[]): { placed: { startLine: number; endLine: number }[]; after: OutputLineState } {
  let state = EMPTY_OUTPUT;
  const placed = chunks.map((chunk) => {
    const { startLine, endLine, after } = placeChunk(state, chunk);
    state = after;
    return { startLine, endLine };
  });
  return { placed, after: state };
}

describe('output line bookkeeping', () => {
  it('counts newlines', () => {
    expect(countNewlines('')).toBe(0);
    expect(countNewlines('abc')).toBe(0);
    expect(countNewlines('\n\na\nb\n')).toBe(4);
  });

  it('numbers chunks by the lines of their first and last character', () => {
    const { placed, after } = placeAll(['a\nb', 'c\n', '\n', 'd', 'e\nf\n']);
    // a\nbc\n\nde\nf\n → lines: a, bc, '', de, f
    expect(placed).toEqual([
      { startLine: 1, endLine: 2 },
      { startLine: 2, endLine: 2 }, // continues the open line 2 and closes it
      { startLine: 3, endLine: 3 }, // an empty line of its own
      { startLine: 4, endLine: 4 },
      { startLine: 4, endLine: 5 },
    ]);
    expect(after).toEqual({ lines: 5, lastLineOpen: false });
  });

  it('counts a last line without its newline', () => {
    expect(placeAll(['abc']).after).toEqual({ lines: 1, lastLineOpen: true });
    expect(placeAll(['abc\n']).after).toEqual({ lines: 1, lastLineOpen: false });
    expect(placeAll(['\n']).after).toEqual({ lines: 1, lastLineOpen: false });
    expect(placeAll(['a', 'b', 'c']).after).toEqual({ lines: 1, lastLineOpen: true });
  });

  it('slices lines out of chunks that start in the middle of an unwanted line', () => {
    // The text starts on line 7 with the tail of that line.
    const text = 'tail-of-7\neight\nnine\nten-partial';
    expect(sliceLines(text, 7, 8, 9)).toEqual(['eight', 'nine']);
    expect(sliceLines(text, 7, 8, 10)).toEqual(['eight', 'nine', 'ten-partial']);
    expect(sliceLines(text, 7, 10, 10)).toEqual(['ten-partial']);
    expect(sliceLines('x\n', 1, 1, 1)).toEqual(['x']);
    expect(sliceLines('x\n', 1, 2, 1)).toEqual([]);
  });

  it('stores a large chunk as pieces cut after a newline, numbered as if they had been appended one by one', () => {
    const texts = ['a\nbb\nccc\ndddd\n', 'x'.repeat(25) + '\nshort\n', 'no newline at all, longer than the limit', '\n\n\n\n\n\n', 'a\nb\nc\nopen end'];
    for (const before of [EMPTY_OUTPUT, { lines: 7, lastLineOpen: false }, { lines: 7, lastLineOpen: true }]) {
      for (const text of texts) {
        const whole = placeChunk(before, text);
        const rows = storedChunks(text, whole.endLine, 4);
        expect(rows.map((r) => r.chunk).join('')).toBe(text);
        // Each piece is within the limit unless it is one line longer than it.
        for (const r of rows) expect(r.chunk.length <= 4 || countNewlines(r.chunk.slice(0, -1)) === 0).toBe(true);
        for (const r of rows.slice(0, -1)) expect(r.chunk.endsWith('\n')).toBe(true);
        let state = before;
        for (const r of rows) {
          const placed = placeChunk(state, r.chunk);
          expect([r.startLine, r.endLine]).toEqual([placed.startLine, placed.endLine]);
          state = placed.after;
        }
        expect(state).toEqual(whole.after);
      }
    }
  });

  it('keeps a chunk within the limit as one row', () => {
    expect(storedChunks('one\ntwo\n', 12)).toEqual([{ chunk: 'one\ntwo\n', startLine: 11, endLine: 12 }]);
    expect(storedChunks('x'.repeat(100_000), 3).map((r) => r.chunk.length)).toEqual([100_000]);
    expect(storedChunks(('y'.repeat(99) + '\n').repeat(1_000), 1_000).map((r) => r.chunk.length)).toEqual([16_300, 16_300, 16_300, 16_300, 16_300, 16_300, 2_200]);
  });
});
