/** One row of the page table: autocannon against one URL, after a probe that the page really answers 200. */
import autocannon from 'autocannon';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export async function load(
  url: string,
  o: { seconds: number; connections: number; cookie?: string | undefined },
): Promise<LoadResult> {
  const probe = await fetch(url, { redirect: 'manual', headers: o.cookie ? { cookie: o.cookie } : {} });
  if (probe.status !== 200)
    throw new Error(
      `GET ${url} answered ${probe.status}${probe.headers.get('location') ? ` → ${probe.headers.get('location')}` : ''}`,
    );
  await probe.text();
  const r = await autocannon({
    url,
    connections: o.connections,
    duration: o.seconds,
    headers: o.cookie ? { cookie: o.cookie } : {},
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}
