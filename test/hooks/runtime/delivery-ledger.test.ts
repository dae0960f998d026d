import { claimLines, LEDGER_WRITE_LIMIT, LedgerEntry, LedgerTable, lineKey, settleLines } from '../../../lib/hooks/runtime/delivery-ledger';

const NOW = 1_800_000_000_000;
const options = { now: NOW, leaseMs: 60_000, ttlSeconds: 86_400, owner: 'invocation-1' };
const lines = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, line: `line ${i}` }));

/** A table stand-in: entries by key, the claim rule of the real condition, and a script of failures. */
function fakeTable(entries: Record<string, LedgerEntry> = {}, failures: { claims?: Set<string>; writes?: number } = {}) {
  const state = new Map(Object.entries(entries));
  const calls = { claims: 0, writes: [] as { settled: number; released: number }[] };
  let writeFailures = failures.writes ?? 0;
  const table: LedgerTable = {
    claim: async (key, lease) => {
      calls.claims++;
      if (failures.claims?.has(key)) {
        throw Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' });
      }
      const previous = state.get(key);
      if (previous && !(previous.state === 'sending' && (previous.leaseUntil < lease.now || previous.owner === lease.owner))) {
        return { claimed: false, previous };
      }
      state.set(key, { state: 'sending', leaseUntil: lease.leaseUntil, owner: lease.owner });
      return { claimed: true, previous };
    },
    write: async (settled, released) => {
      calls.writes.push({ settled: settled.length, released: released.length });
      if (writeFailures-- > 0) {
        // DynamoDB's partial answer: every item unprocessed.
        return [...settled.map((s) => s.key), ...released];
      }
      settled.forEach((s) => state.set(s.key, { state: s.state }));
      released.forEach((key) => state.delete(key));
      return [];
    },
    sleep: async () => undefined,
    random: () => 0.5,
  };
  return { table, state, calls };
}

describe('the delivery ledger', () => {
  test('keys a log event by its log group and event id, the same on every delivery and different across groups', () => {
    expect(lineKey('/aws/lambda/gateway', '3779')).toBe(lineKey('/aws/lambda/gateway', '3779'));
    expect(lineKey('/aws/lambda/gateway', '3779')).not.toBe(lineKey('/aws/lambda/other', '3779'));
    expect(lineKey('/aws/lambda/gateway', '3779')).toMatch(/^[0-9a-f]{64}$/);
  });

  test('sorts lines by what the ledger holds: new, taken over from a lease that ran out, settled, or leased by a live invocation', async () => {
    const { table, state } = fakeTable({
      k1: { state: 'sending', leaseUntil: NOW - 1 },
      k2: { state: 'delivered' },
      k3: { state: 'dead-lettered' },
      k4: { state: 'sending', leaseUntil: NOW + 1 },
    });
    const claims = await claimLines(lines(5), table, options);
    expect({
      fresh: claims.fresh.map((l) => l.key), takenOver: claims.takenOver.map((l) => l.key),
      settled: claims.settled.map((l) => l.key), pending: claims.pending.map((l) => l.key),
    }).toEqual({ fresh: ['k0'], takenOver: ['k1'], settled: ['k2', 'k3'], pending: ['k4'] });
    expect(state.get('k0')).toEqual({ state: 'sending', leaseUntil: NOW + 60_000, owner: 'invocation-1' });
  });

  test('takes its own live claim (an earlier attempt whose answer was lost) as new, and another invocation\'s as pending', async () => {
    const { table } = fakeTable({
      k0: { state: 'sending', leaseUntil: NOW + 60_000, owner: 'invocation-1' },
      k1: { state: 'sending', leaseUntil: NOW + 60_000, owner: 'invocation-0' },
    });
    const claims = await claimLines(lines(2), table, options);
    expect({ fresh: claims.fresh.map((l) => l.key), takenOver: claims.takenOver.length, pending: claims.pending.map((l) => l.key) })
      .toEqual({ fresh: ['k0'], takenOver: 0, pending: ['k1'] });
  });

  test('tries a failing claim 6 times when maxAttempts is not given, as RetryOptions documents', async () => {
    const { table, calls } = fakeTable({}, { claims: new Set(['k0']) });
    const claims = await claimLines(lines(1), table, options);
    expect(claims.pending).toHaveLength(1);
    expect(calls.claims).toBe(6);
  });

  test('retries a failing claim, and leaves the line pending when the table keeps failing', async () => {
    const { table, calls } = fakeTable({}, { claims: new Set(['k1']) });
    const claims = await claimLines(lines(3), table, { ...options, maxAttempts: 4 });
    expect(claims.pending.map((l) => l.key)).toEqual(['k1']);
    expect(claims.fresh.map((l) => l.key)).toEqual(['k0', 'k2']);
    expect(calls.claims).toBe(2 + 4);
  });

  test(`settles and releases in writes of at most ${LEDGER_WRITE_LIMIT} items`, async () => {
    const { table, state, calls } = fakeTable({ r0: { state: 'sending', leaseUntil: NOW + 1 } });
    const settled = Array.from({ length: 40 }, (_, i) => ({ key: `s${i}`, state: 'delivered' as const }));
    await expect(settleLines(settled, ['r0'], table, options)).resolves.toEqual({ unsettled: [], unreleased: 0 });
    expect(calls.writes).toEqual([{ settled: 25, released: 0 }, { settled: 15, released: 1 }]);
    expect(state.get('s39')).toEqual({ state: 'delivered' });
    expect(state.has('r0')).toBe(false);
  });

  test('retries unprocessed items, and answers those still unwritten after the last attempt', async () => {
    const retried = fakeTable({}, { writes: 2 });
    await expect(settleLines([{ key: 'a', state: 'dead-lettered' }], [], retried.table, options)).resolves.toEqual({ unsettled: [], unreleased: 0 });
    expect(retried.calls.writes).toHaveLength(3);
    const failing = fakeTable({}, { writes: 3 });
    await expect(settleLines([{ key: 'a', state: 'delivered' }], ['b'], failing.table, { ...options, maxAttempts: 3 }))
      .resolves.toEqual({ unsettled: [{ key: 'a', state: 'delivered' }], unreleased: 1 });
  });
});
