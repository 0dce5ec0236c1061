import { Credentials } from './api-client';

/** One scrape of a /metrics endpoint: its status and, when 200, every sample by series. */
export interface Scrape {
  status: number;
  contentType: string | null;
  /** Value by series, `name{a="x",b="y"}` with the labels sorted by name (no braces without labels). */
  series: Map<string, number>;
}

/** The series key of a sample line's left side, labels sorted so that keys compare whatever the order. */
function seriesKey(left: string): string {
  const brace = left.indexOf('{');
  if (brace === -1) return left;
  const labels = left.slice(brace + 1, -1).match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [];
  return `${left.slice(0, brace)}{${[...labels].sort().join(',')}}`;
}

/** GET <baseUrl>/metrics as Prometheus would, with Basic credentials or none. */
export async function scrapeMetrics(baseUrl: string, credentials: Credentials | null): Promise<Scrape> {
  const headers: Record<string, string> = {};
  if (credentials) headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  const response = await fetch(`${baseUrl}/metrics`, { headers, signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  const series = new Map<string, number>();
  if (response.status === 200) {
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      series.set(seriesKey(line.slice(0, space)), Number(line.slice(space + 1)));
    }
  }
  return { status: response.status, contentType: response.headers.get('content-type'), series };
}

/** A series' value, 0 when absent (a counter not incremented yet). */
export function sample(scrape: Scrape, key: string): number {
  return scrape.series.get(seriesKey(key)) ?? 0;
}
