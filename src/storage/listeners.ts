/** Watchers of a store (`EventStore.watchEvents`), each isolated from the others' failures. */

/** Calls every listener; one that throws does not keep the others from being called. */
export function notifyAll(listeners: ReadonlySet<() => void>): void {
  for (const listener of listeners) {
    try {
      listener();
    } catch {
      // A subscriber's failure is its own (SPEC §10): the others still hear of the events.
    }
  }
}
