/**
 * Webhooks (SPEC §10, owner): creation with a Standard Webhooks secret shown once and stored
 * wrapped by the key-encryption key, listing, deletion and the delivery log. Deliveries are
 * services/webhook-dispatch.ts's.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { egressAllows, egressEntries, normalHost } from '../domain/egress.js';
import { BucketError } from '../domain/errors.js';
import { ruleOf } from '../domain/policy.js';
import { formatSecret, SECRET_BYTES } from '../domain/standard-webhooks.js';
import type { DeliveryAttempt, WebhookRecord } from '../domain/webhooks.js';
import type { MasterKey } from '../storage/master-key.js';
import type { ChangeEntry, MetadataStore } from '../storage/ports.js';
import type { PolicyService } from './policies.js';

export interface CreateWebhookInput {
  readonly url: string;
  readonly types: readonly string[];
  readonly product?: string | null | undefined;
}

export interface CreatedWebhook {
  readonly record: WebhookRecord;
  /** `whsec_…`: shown once, in the creation's answer. */
  readonly secret: string;
}

const TYPE_PREFIX = /^[a-z0-9._-]{1,100}$/;
const MAX_URL = 2048;

/** What the wrapped secret of a webhook is bound to (its associated data). */
export function secretContext(id: string): string {
  return `webhook-secret:${id}`;
}

export class WebhookService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly masterKey: MasterKey,
    private readonly policies: PolicyService,
    /** Told when webhooks were created or deleted (the dispatcher looks again). */
    private readonly changed: () => void,
  ) {}

  private invalid(message: string): BucketError {
    return new BucketError('invalid_webhook', message);
  }

  private checkUrl(text: string): void {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw this.invalid('url is not an absolute URL');
    }
    if (text.length > MAX_URL) throw this.invalid(`url is longer than ${MAX_URL} characters`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw this.invalid('url must be http:// or https:// (SPEC §11 egress rules)');
    }
    if (url.username || url.password) {
      throw this.invalid('url must not carry credentials; the signature authenticates deliveries');
    }
    // A literal address is refused now; a name is checked where it is connected to, each time.
    const host = normalHost(url.hostname);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const allow = egressEntries(this.policies.current().document.egress?.allow ?? []);
    if (isIP(host) !== 0 && !egressAllows(allow, host, port, host)) {
      throw this.invalid(
        `${host} is not globally routable; the policy's egress.allow must name it (SPEC §11)`,
      );
    }
  }

  async create(
    input: CreateWebhookInput,
    createdBy: string,
    entry?: ChangeEntry,
  ): Promise<CreatedWebhook> {
    this.checkUrl(input.url);
    if (input.types.length === 0) throw this.invalid('types must name at least one prefix');
    for (const prefix of input.types) {
      if (!TYPE_PREFIX.test(prefix)) {
        throw this.invalid(`"${prefix}" is not an event type prefix (e.g. bucket.artifact.)`);
      }
    }
    const product = input.product ?? null;
    if (product !== null && !ruleOf(this.policies.current().document.products, product)) {
      throw new BucketError('product_not_found', `No product "${product}" in the live policy.`);
    }
    const id = 'wh_' + randomBytes(8).toString('hex');
    const secret = formatSecret(randomBytes(SECRET_BYTES));
    const record: WebhookRecord = {
      id,
      url: input.url,
      types: [...new Set(input.types)],
      product,
      secret: this.masterKey.wrap(Buffer.from(secret, 'utf8'), secretContext(id)),
      createdAt: new Date().toISOString(),
      createdBy,
      // Events from its creation on.
      cursor: await this.metadata.latestEventId(),
      nextAttemptAt: Date.now(),
      failures: 0,
      failingSince: null,
      disabledAt: null,
    };
    await this.metadata.insertWebhook(record, entry);
    this.changed();
    return { record, secret };
  }

  list(): Promise<WebhookRecord[]> {
    return this.metadata.listWebhooks();
  }

  async delete(id: string, entry?: ChangeEntry): Promise<WebhookRecord> {
    const deleted = await this.metadata.deleteWebhook(id, entry);
    if (!deleted) throw new BucketError('webhook_not_found');
    this.changed();
    return deleted;
  }

  async deliveries(id: string, after: number, limit: number): Promise<DeliveryAttempt[]> {
    if (!(await this.metadata.getWebhook(id))) throw new BucketError('webhook_not_found');
    return this.metadata.webhookDeliveries(id, after, limit);
  }

  /** The secret in clear, for signing a delivery. */
  secretOf(record: WebhookRecord): string {
    return this.masterKey.unwrap(record.secret, secretContext(record.id)).toString('utf8');
  }
}
