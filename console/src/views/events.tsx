/** Events (SPEC §10, §14): the live tail of the event bus, resumed with Last-Event-ID. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, query } from '../api';
import type { Identity } from '../identity';
import { can } from '../rights';
import { readSse } from '../sse';
import { Note, Panel, View, when } from '../ui';

interface CloudEvent {
  id: string;
  type: string;
  subject: string;
  time: string;
  bucketproduct: string | null;
  auditindex: number | null;
}
const KEEP = 200;

export function EventsView(props: { identity: Identity }) {
  const allowed = can(props.identity, 'events.read');
  const [type, setType] = useState('');
  const [applied, setApplied] = useState('');
  const [live, setLive] = useState(true);
  const [events, setEvents] = useState<CloudEvent[]>([]);
  const [status, setStatus] = useState('connecting');
  const last = useRef<string | null>(null);

  useEffect(() => {
    if (!allowed || !live) {
      setStatus('paused');
      return;
    }
    const stop = new AbortController();
    const loop = async () => {
      while (!stop.signal.aborted) {
        try {
          setStatus('live');
          await readSse(
            `/v1/events/stream${query({ type: applied })}`,
            last.current,
            stop.signal,
            (frame) => {
              if (frame.id) last.current = frame.id;
              const event = JSON.parse(frame.data) as CloudEvent;
              setEvents((list) => [event, ...list].slice(0, KEEP));
            },
          );
        } catch (error) {
          if (stop.signal.aborted) return;
          setStatus(`reconnecting (${describeError(error)})`);
        }
        // The server ends slow or re-authenticated streams; resume after the last id.
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    };
    void loop();
    return () => stop.abort();
  }, [allowed, live, applied]);

  if (!allowed) {
    return (
      <View title="Events">
        <Note>Your key’s kind does not read the event bus.</Note>
      </View>
    );
  }
  return (
    <View title="Events">
      <Panel title="Live tail">
        <form
          class="filters"
          onSubmit={(event) => {
            event.preventDefault();
            last.current = null;
            setEvents([]);
            setApplied(type);
          }}
        >
          <div class="field">
            <label for="event-type">Type prefix</label>
            <input
              id="event-type"
              value={type}
              placeholder="bucket.artifact."
              onInput={(e) => setType(e.currentTarget.value)}
            />
          </div>
          <button type="submit">Apply filter</button>
          <button type="button" onClick={() => setLive(!live)}>
            {live ? 'Pause' : 'Resume'}
          </button>
        </form>
        <p>
          Stream: <span data-testid="stream-status">{status}</span>
        </p>
        {events.length === 0 && <Note>No events yet.</Note>}
        <div role="log" aria-label="Events" aria-live="polite">
          <ol class="events">
            {events.map((e) => (
              <li key={e.id}>
                <code>{e.id}</code> {when(e.time)} <strong>{e.type}</strong> {e.subject}
                {e.auditindex !== null && ` (audit #${e.auditindex})`}
              </li>
            ))}
          </ol>
        </div>
      </Panel>
    </View>
  );
}
