/** Stores that can be made to stop answering, for tests of `/health` and what reads it. */

/** A real adapter whose `ping` fails while `failing` is set (a store that became unreachable). */
export function failable<T extends { ping(): Promise<void> }>(store: T): T & { failing: boolean } {
  const flags = { failing: false };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'failing') return flags.failing;
      if (property === 'ping' && flags.failing) {
        return () => Promise.reject(new Error('store unavailable (test)'));
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set(target, property, value, receiver) {
      if (property === 'failing') {
        flags.failing = Boolean(value);
        return true;
      }
      return Reflect.set(target, property, value, receiver);
    },
  }) as T & { failing: boolean };
}
