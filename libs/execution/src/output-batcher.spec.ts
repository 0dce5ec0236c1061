import { OutputBatcher } from './output-batcher';

/** A batcher over an in-memory store, with a tiny limit. */
function capped(maxStoredBytes: number) {
  const chunks: string[] = [];
  const batcher = new OutputBatcher(async (chunk) => void chunks.push(chunk), { flushIntervalMs: 1, maxStoredBytes });
  return { batcher, stored: () => chunks.join('') };
}

describe('OutputBatcher output limit', () => {
  it('stores everything, and no notice, while under the limit', async () => {
    const { batcher, stored } = capped(100);
    batcher.write('one\n');
    batcher.write('two\n');
    await batcher.finish();
    expect(stored()).toBe('one\ntwo\n');
  });

  it('stores up to the limit, drops the rest, and ends with one line saying how much', async () => {
    const { batcher, stored } = capped(10);
    for (let i = 1; i <= 1000; i++) expect(batcher.write(`line ${i}\n`)).toBeUndefined();
    await batcher.finish();
    // 10 bytes: "line 1\nlin", then the notice on its own line; line 2 on are not (wholly) stored.
    const total = 9 * 7 + 90 * 8 + 900 * 9 + 10;
    expect(stored()).toBe(`line 1\nlin\n[flansible] output limit of 0 MiB reached: 999 lines (${((total - 10) / 1024).toFixed(1)} KiB) not stored\n`);
  });

  it('counts the limit in UTF-8 bytes and never splits a character', async () => {
    const { batcher, stored } = capped(7);
    batcher.write('ééé\nfin'); // é is 2 bytes: 3 fit in 6, the newline makes 7
    batcher.write('al\n');
    await batcher.finish();
    expect(stored()).toBe('ééé\n[flansible] output limit of 0 MiB reached: 1 lines (6 bytes) not stored\n');

    const split = capped(3);
    split.batcher.write('aéé\n');
    await split.batcher.finish();
    expect(split.stored()).toBe('aé\n[flansible] output limit of 0 MiB reached: 1 lines (3 bytes) not stored\n');
  });

  it('names the configured limit in MiB and large amounts in MiB', async () => {
    const { batcher, stored } = capped(0.5 * 1024 * 1024);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 2048; i++) batcher.write(line);
    await batcher.finish();
    const text = stored();
    expect(Buffer.byteLength(text)).toBeLessThan(0.5 * 1024 * 1024 + 200);
    expect(text.endsWith('\n[flansible] output limit of 0.5 MiB reached: 1536 lines (1.5 MiB) not stored\n')).toBe(true);
  });
});
