/**
 * Prometheus metrics (SPEC §7) through prom-client, `bucket_` prefix. Hot-path counters use label
 * children created once and cached by route, method and status; the stored-usage gauges, the
 * writes in flight and backend health are read when scraped, from the usage counters and live
 * pings (never a scan of versions).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { THREAT_NAMES, type Decision } from '../domain/decision.js';
import type { ThreatRecord } from '../domain/threats.js';
import type { BlobStore, Limiter, MetadataStore } from '../storage/ports.js';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

/** Artifact routes and the rate they count toward (SPEC §2.3). */
const ARTIFACT_PREFIX = '/v1/artifacts';
const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE']);

export interface MetricsSources {
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
  readonly limiter: Limiter;
}

export class BucketMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly duration: Histogram<'route' | 'method'>;
  private readonly decisions: Counter<'outcome' | 'rule'>;
  private readonly threats: Counter<'id'>;
  private readonly writes: Counter;
  private readonly reads: Counter;
  private readonly requestChildren = new Map<string, Map<string, Map<number, CounterChild>>>();
  private readonly durationChildren = new Map<string, Map<string, HistogramChild>>();
  private readonly allowChild: CounterChild;
  private readonly threatChildren = new Map<string, CounterChild>();
  private readonly subscribers: Gauge;
  private readonly webhookDeliveries: Counter<'outcome'>;
  private readonly webhookLag: Histogram;
  private readonly runQueueWait: Histogram;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'bucket_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'bucket_http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by route template and method',
      labelNames: ['route', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers,
    });
    this.decisions = new Counter({
      name: 'bucket_gate_decisions_total',
      help: 'Gate decisions by outcome and the rule of the first reason of a denial',
      labelNames: ['outcome', 'rule'],
      registers,
    });
    this.allowChild = this.decisions.labels('allow', 'none');
    this.threats = new Counter({
      name: 'bucket_threats_total',
      help: 'Threat detections and T5 alerts, by threat id',
      labelNames: ['id'],
      registers,
    });
    for (const id of Object.keys(THREAT_NAMES)) {
      const child = this.threats.labels(id);
      // Every id shows from the first scrape, at 0 until detected.
      child.inc(0);
      this.threatChildren.set(id, child);
    }
    this.writes = new Counter({
      name: 'bucket_artifact_writes_total',
      help: 'Artifact writes answered (PUT, DELETE, restore), any status',
      registers,
    });
    this.reads = new Counter({
      name: 'bucket_artifact_reads_total',
      help: 'Artifact reads answered (GET, HEAD, listings), any status',
      registers,
    });
    new Gauge({
      name: 'bucket_writes_in_flight',
      help: 'Artifact writes holding a concurrency slot',
      registers,
      async collect() {
        this.set(await sources.limiter.writesInFlight());
      },
    });
    // Each gauge reads the usage counters itself: a registry collects its metrics one by one.
    new Gauge({
      name: 'bucket_artifacts',
      help: 'Stored artifacts per product (usage counters)',
      labelNames: ['product'],
      registers,
      async collect() {
        const usage = await sources.metadata.usageByProduct();
        for (const [product, { artifacts }] of Object.entries(usage)) {
          this.labels(product).set(artifacts);
        }
      },
    });
    new Gauge({
      name: 'bucket_stored_bytes',
      help: 'Logical bytes of every stored version per product (usage counters)',
      labelNames: ['product'],
      registers,
      async collect() {
        const usage = await sources.metadata.usageByProduct();
        for (const [product, { bytes }] of Object.entries(usage)) this.labels(product).set(bytes);
      },
    });
    new Gauge({
      name: 'bucket_audit_tree_size',
      help: 'Entries in the audit log (the Merkle tree size)',
      registers,
      async collect() {
        this.set(await sources.metadata.auditSize());
      },
    });
    new Counter({
      name: 'bucket_events_written_total',
      help: 'Events written by every node (SPEC §10): the newest event cursor',
      registers,
      async collect() {
        this.reset();
        this.inc(await sources.metadata.latestEventId());
      },
    });
    this.subscribers = new Gauge({
      name: 'bucket_event_stream_subscribers',
      help: 'Clients of GET /v1/events/stream connected to this node',
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'bucket_webhook_deliveries_total',
      help:
        'Webhook delivery attempts made by this node, by outcome: delivered (2xx), failed (an ' +
        'answer other than 2xx, a timeout or a connection error), refused (the egress rules)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['delivered', 'failed', 'refused'])
      this.webhookDeliveries.labels(outcome);
    this.webhookLag = new Histogram({
      name: 'bucket_webhook_delivery_lag_seconds',
      help: "From an event's commit to its delivery's 2xx, in seconds (retries included)",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400],
      registers,
    });
    this.runQueueWait = new Histogram({
      name: 'bucket_run_queue_wait_seconds',
      help: "From a Core run's creation to its start on this node, in seconds (SPEC §11)",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    new Gauge({
      name: 'bucket_webhook_backlog_events',
      help: "Events after each active webhook's cursor, when scraped: how far its deliveries lag",
      labelNames: ['webhook'],
      registers,
      async collect() {
        const [latest, webhooks] = await Promise.all([
          sources.metadata.latestEventId(),
          sources.metadata.listWebhooks(),
        ]);
        this.reset();
        for (const webhook of webhooks) {
          if (webhook.disabledAt === null) {
            this.labels(webhook.id).set(Math.max(0, latest - webhook.cursor));
          }
        }
      },
    });
    const durability = sources.metadata.durability?.bind(sources.metadata);
    if (durability) {
      new Counter({
        name: 'bucket_metadata_syncs_total',
        help: 'Syncs of the metadata write-ahead log to disk (every acknowledgement waits for one)',
        registers,
        collect() {
          this.reset();
          this.inc(durability().syncs);
        },
      });
      new Counter({
        name: 'bucket_metadata_sync_seconds_total',
        help: 'Time spent in those syncs, in seconds (divided by the syncs: the disk latency)',
        registers,
        collect() {
          this.reset();
          this.inc(durability().syncSeconds);
        },
      });
    }
    const backends: [string, { ping(): Promise<void> }][] = [
      ['metadata', sources.metadata],
      ['blobs', sources.blobs],
      ['limiter', sources.limiter],
    ];
    new Gauge({
      name: 'bucket_backend_up',
      help: 'Whether a live ping of each backend succeeded when scraped (1) or not (0)',
      labelNames: ['backend'],
      registers,
      async collect() {
        await Promise.all(
          backends.map(async ([name, backend]) => {
            const up = await backend.ping().then(
              () => 1,
              () => 0,
            );
            this.labels(name).set(up);
          }),
        );
      },
    });
  }

  /** One answered request; `route` is the route template (`null` when no route matched). */
  observeRequest(route: string | null, method: string, status: number, seconds: number): void {
    const template = route ?? 'unmatched';
    let byMethod = this.requestChildren.get(template);
    if (!byMethod) this.requestChildren.set(template, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let child = byStatus.get(status);
    if (!child)
      byStatus.set(status, (child = this.requests.labels(template, method, String(status))));
    child.inc();

    let durations = this.durationChildren.get(template);
    if (!durations) this.durationChildren.set(template, (durations = new Map()));
    let timer = durations.get(method);
    if (!timer) durations.set(method, (timer = this.duration.labels(template, method)));
    timer.observe(seconds);

    if (route !== null && route.startsWith(ARTIFACT_PREFIX)) {
      if (WRITE_METHODS.has(method)) this.writes.inc();
      else this.reads.inc();
    }
  }

  /** An event stream opened (+1) or closed (−1). */
  observeStreamSubscribers(delta: 1 | -1): void {
    this.subscribers.inc(delta);
  }

  /** A webhook delivery attempt; its lag when it delivered. */
  observeWebhookDelivery(outcome: 'delivered' | 'failed' | 'refused', lagSeconds: number | null) {
    this.webhookDeliveries.labels(outcome).inc();
    if (lagSeconds !== null) this.webhookLag.observe(lagSeconds);
  }

  /** A Core run started on this node after waiting `waitMs` in the queue. */
  observeRunStart(waitMs: number): void {
    this.runQueueWait.observe(waitMs / 1000);
  }

  observeDecision(decision: Decision): void {
    if (decision.allow) this.allowChild.inc();
    else this.decisions.labels('deny', decision.reasons[0]?.rule ?? 'none').inc();
  }

  /** Threat records as stored: detections (once per request) and T5 usage alerts. */
  observeThreatRecords(records: readonly Pick<ThreatRecord, 'threatId'>[]): void {
    for (const record of records) this.threatChildren.get(record.threatId)?.inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
