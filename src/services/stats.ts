/**
 * Live decision counts for `/governance/gate/status` (SPEC §4.2): allows and denials in the last
 * hour, one per request (a write decided twice — headers, then body — counts once, as its last
 * decision), in one-minute buckets.
 */
const BUCKET_MS = 60_000;
const BUCKETS = 60;
/** Requests remembered to count a second decision of the same request once. */
const RECENT_REQUESTS = 4096;

interface MinuteBucket {
  minute: number;
  allow: number;
  deny: number;
}

export class DecisionStats {
  private readonly buckets: MinuteBucket[] = Array.from({ length: BUCKETS }, () => ({
    minute: -1,
    allow: 0,
    deny: 0,
  }));
  private readonly recent = new Map<string, { minute: number; allow: boolean }>();

  constructor(private readonly now: () => number = Date.now) {}

  record(requestId: string, allow: boolean): void {
    const minute = Math.floor(this.now() / BUCKET_MS);
    const previous = this.recent.get(requestId);
    if (previous) {
      const old = this.bucket(previous.minute);
      if (old.minute === previous.minute) {
        if (previous.allow) old.allow--;
        else old.deny--;
      }
      this.recent.delete(requestId);
    } else if (this.recent.size >= RECENT_REQUESTS) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
    const bucket = this.bucket(minute);
    if (bucket.minute !== minute) Object.assign(bucket, { minute, allow: 0, deny: 0 });
    if (allow) bucket.allow++;
    else bucket.deny++;
    this.recent.set(requestId, { minute, allow });
  }

  lastHour(): { allow: number; deny: number } {
    const current = Math.floor(this.now() / BUCKET_MS);
    let allow = 0;
    let deny = 0;
    for (const bucket of this.buckets) {
      if (bucket.minute > current - BUCKETS && bucket.minute <= current) {
        allow += bucket.allow;
        deny += bucket.deny;
      }
    }
    return { allow, deny };
  }

  private bucket(minute: number): MinuteBucket {
    return this.buckets[((minute % BUCKETS) + BUCKETS) % BUCKETS] as MinuteBucket;
  }
}
