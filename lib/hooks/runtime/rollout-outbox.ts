import type { AuditEntry, PendingDelivery } from '../../release/rollout-record';
import type { RolloutStore } from './rollout-store';

/** One consumer of announced entries: the event bus, the topic, an after-hook. */
export interface OutboxConsumer {
  /** Its id in the outbox items' `delivered` sets, e.g. `events`, `sns`, `hook:<function ARN>`. */
  readonly id: string;
  /** Whether it receives this entry (the after-hooks: promotions and aborts only). */
  readonly takes: (entry: AuditEntry) => boolean;
  /** Delivers the entry with its delivery id; throws when the delivery failed. */
  readonly deliver: (entry: AuditEntry, deliveryId: string) => Promise<void>;
}

/** A delivery that failed (it stays owed; a later tick retries it). */
export interface DeliveryFailure {
  readonly deliveryId: string;
  readonly consumer: string;
  readonly error: string;
}

/** What one pass over the outbox did. */
export interface DeliveryReport {
  /** Deliveries made and acknowledged. */
  readonly delivered: number;
  /** Deliveries that failed, or whose acknowledgement failed (those are repeated, with the same id). */
  readonly failures: readonly DeliveryFailure[];
  /** Outbox items still owed after the pass. */
  readonly pending: number;
  /** Outbox items without an announced audit entry under their key (forged, not written with a change): removed, not delivered. */
  readonly removedUnmatched: readonly string[];
}

/**
 * The outbox's deliveries in the order their changes were made. The items' keys start with the
 * writer's clock (a controller's, or a laptop's for the CLI), which can disagree with the order of
 * versions; within each stream of versions (the rollout's, the manual changes') the places the
 * stream holds are refilled in version order, then place within the write.
 */
export function inVersionOrder(owed: readonly PendingDelivery[]): PendingDelivery[] {
  const stream = (d: PendingDelivery) => (d.entry.rolloutId === undefined ? 'manual' : 'rollout');
  const sorted = new Map<string, PendingDelivery[]>();
  for (const name of new Set(owed.map(stream))) {
    sorted.set(name, owed.filter((d) => stream(d) === name).sort((a, b) => a.entry.version - b.entry.version || (a.entry.sequence ?? 0) - (b.entry.sequence ?? 0)));
  }
  return owed.map((d) => sorted.get(stream(d))!.shift()!);
}

/**
 * Delivers what the outbox owes, in the order of its changes (`inVersionOrder`): to each consumer that takes the entry and
 * has not acknowledged it, then acknowledges (a conditional update); an item every consumer
 * acknowledged is removed. A consumer whose delivery or acknowledgement fails gets nothing more
 * this pass, so it never hears of an entry before an earlier one; the others go on. Delivery is
 * at least once: only a delivery made but not acknowledged (its acknowledgement failed, or the
 * function stopped between the two) is repeated, by a later pass, with the same delivery id. Only
 * items with an announced audit entry under their key are delivered, built from that entry; the
 * others are removed and reported.
 */
export async function deliverOutbox(store: RolloutStore, endpointName: string, consumers: readonly OutboxConsumer[]): Promise<DeliveryReport> {
  const found = await store.pending(endpointName);
  const removedUnmatched: string[] = [];
  for (const forged of found.unmatched) {
    await store.settle(forged);
    removedUnmatched.push(forged.sortKey);
  }
  const owed = inVersionOrder(found.owed);
  const blocked = new Set<string>();
  const failures: DeliveryFailure[] = [];
  let delivered = 0;
  let pending = 0;
  for (const delivery of owed) {
    let complete = true;
    for (const consumer of consumers.filter((c) => c.takes(delivery.entry) && !delivery.delivered.includes(c.id))) {
      if (blocked.has(consumer.id)) {
        complete = false;
        continue;
      }
      try {
        await consumer.deliver(delivery.entry, delivery.deliveryId);
        await store.acknowledge(delivery, consumer.id);
        delivered += 1;
      } catch (error) {
        blocked.add(consumer.id);
        complete = false;
        failures.push({ deliveryId: delivery.deliveryId, consumer: consumer.id, error: (error as Error).message });
      }
    }
    if (complete) {
      try {
        await store.settle(delivery);
      } catch (error) {
        // Every consumer has it: a later pass only removes the item.
        failures.push({ deliveryId: delivery.deliveryId, consumer: 'outbox', error: (error as Error).message });
        pending += 1;
      }
    } else {
      pending += 1;
    }
  }
  return { delivered, failures, pending, removedUnmatched };
}
