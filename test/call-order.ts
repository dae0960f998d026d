import type { SinonSpyCall } from 'sinon';

/** The labels of SDK calls (from aws-sdk-client-mock's `commandCalls`) in the order they were made, across clients. */
export function callOrder(labelled: ReadonlyArray<readonly [label: string, calls: readonly SinonSpyCall[]]>): string[] {
  return labelled
    .flatMap(([label, calls]) => calls.map((call) => ({ label, call })))
    .sort((a, b) => (a.call.calledBefore(b.call) ? -1 : b.call.calledBefore(a.call) ? 1 : 0))
    .map((c) => c.label);
}
