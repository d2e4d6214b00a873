/** Small pieces every view shares: headings, error and status lines, the "not available" note. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError } from './api';

/** A view: its heading takes the focus when it opens, so a screen reader announces where it is. */
export function View(props: { title: string; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [props.title]);
  return (
    <section aria-labelledby="view-title">
      <h1 id="view-title" tabIndex={-1} ref={heading}>
        {props.title}
      </h1>
      {props.children}
    </section>
  );
}

export function Panel(props: { title: string; children: ComponentChildren }) {
  const id = `panel-${props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section class="panel" aria-labelledby={id}>
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

export function ErrorText(props: { error: unknown }) {
  if (props.error === null || props.error === undefined) return null;
  if (props.error instanceof ApiError && props.error.status === 404) {
    return <p class="muted">Not available on this server.</p>;
  }
  return (
    <p class="error" role="alert">
      {describeError(props.error)}
    </p>
  );
}

export function Note(props: { children: ComponentChildren }) {
  return <p class="muted">{props.children}</p>;
}

/** The state of one load: its value, its error, and a way to load it again. */
export interface Loaded<T> {
  readonly value: T | null;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/** Loads `load()` when `deps` change (nothing when `load` is null: the key may not). */
export function useLoad<T>(load: (() => Promise<T>) | null, deps: unknown[]): Loaded<T> {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (load === null) return;
    let live = true;
    setLoading(true);
    load().then(
      (found) => {
        if (!live) return;
        setValue(found);
        setError(null);
        setLoading(false);
      },
      (failed: unknown) => {
        if (!live) return;
        setError(failed);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  return { value, error, loading, reload: () => setRound((n) => n + 1) };
}

export function when(date: string | null | undefined): string {
  if (!date) return '—';
  return date.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Pretty JSON for a <pre>. */
export function Json(props: { value: unknown; label?: string }) {
  return (
    <pre class="json" tabIndex={0} role="region" aria-label={props.label ?? 'JSON'}>
      {JSON.stringify(props.value, null, 2)}
    </pre>
  );
}

/** Runs a change, shows its error, reloads what it changed. */
export function useAct(): [
  string | null,
  (run: () => Promise<unknown>, reload: () => void) => Promise<void>,
] {
  const [error, setError] = useState<string | null>(null);
  return [
    error,
    async (run, reload) => {
      setError(null);
      try {
        await run();
        reload();
      } catch (failed) {
        setError(describeError(failed));
      }
    },
  ];
}

export function Alert(props: { text: string | null }) {
  return props.text ? (
    <p class="error" role="alert">
      {props.text}
    </p>
  ) : null;
}
