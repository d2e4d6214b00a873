/**
 * The seed's gate endpoints as a service (services/gate-info.ts): the dry run decides like the
 * gate, as a product key of the integration, and leaves nothing in the audit log; a product key
 * may ask only about its own product.
 */
import { GateHealth } from '../../../src/services/gate-health.js';
import { IncidentService } from '../../../src/services/incidents.js';
import { ModeService } from '../../../src/services/modes.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BucketError } from '../../../src/domain/errors.js';
import type { Principal } from '../../../src/domain/principal.js';
import { Gate } from '../../../src/gate/decide.js';
import { GateInfoService, type OperationDryRun } from '../../../src/services/gate-info.js';
import { DecisionStats } from '../../../src/services/stats.js';
import { ThreatService } from '../../../src/services/threats.js';
import { OWNER, serviceRig, type ServiceRig } from '../../helpers/service-rig.js';

const GURUKUL_KEY: Principal = {
  id: 'key_gurukul',
  kind: 'product',
  product: 'gurukul',
  integrationId: 'int_gurukul',
};

const dryRun = (fields: Partial<OperationDryRun> = {}): OperationDryRun => ({
  integrationId: 'int_gurukul',
  operationType: 'CREATE',
  artifactClass: 'user_progress',
  dataSize: 100,
  product: null,
  ...fields,
});

let rig: ServiceRig;
let service: GateInfoService;

beforeEach(async () => {
  rig = await serviceRig();
  await rig.store.insertIntegration({
    id: 'int_gurukul',
    type: 'api_client',
    product: 'gurukul',
    classes: ['user_progress', 'educational_content'],
    dataSchema: {},
    approvedAt: '2026-01-01T00:00:00.000Z',
    approvedBy: 'key_owner',
    revokedAt: null,
  });
  await rig.integrations.init();
  const threats = new ThreatService(rig.store, rig.policies);
  await threats.init();
  const modes = new ModeService(rig.store);
  await modes.init('2026-01-01T00:00:00.000Z');
  const incidents = new IncidentService(rig.store, modes, () => 1);
  service = new GateInfoService({
    gate: new Gate(),
    authorizer: rig.authorizer,
    policies: rig.policies,
    integrations: rig.integrations,
    metadata: rig.store,
    limiter: rig.limiter,
    stats: new DecisionStats(),
    threats,
    modes,
    gateHealth: new GateHealth(incidents),
  });
});
afterEach(async () => rig.close());

describe('GateInfoService', () => {
  it('decides a dry run through the integration, recording nothing', async () => {
    const request = { requestId: 'req_1', principal: OWNER };
    const create = await service.validateOperation(request, dryRun());
    expect(create).toMatchObject({
      allow: true,
      operation: 'CREATE',
      principal: { kind: 'product', product: 'gurukul' },
    });
    // user_progress allows no DELETE: the stand-in head makes it a real DELETE decision.
    const remove = await service.validateOperation(request, dryRun({ operationType: 'DELETE' }));
    expect(remove).toMatchObject({ allow: false, status: 403, operation: 'DELETE' });
    const undeclared = await service.validateOperation(
      request,
      dryRun({ artifactClass: 'payment_info' }),
    );
    expect(undeclared.allow).toBe(false);
    expect(await rig.entries()).toEqual([]);
  });

  it('lets a product key ask only about its own product, and records that check', async () => {
    const request = { requestId: 'req_2', principal: GURUKUL_KEY };
    expect((await service.validateOperation(request, dryRun())).allow).toBe(true);
    const other = service.validateOperation(
      request,
      dryRun({ integrationId: 'int_ai_avatar', product: 'ai_avatar' }),
    );
    await expect(other).rejects.toBeInstanceOf(BucketError);
    const entries = await rig.entries();
    expect(entries.map((e) => [e.operation, e.allow])).toEqual([
      ['gate.validate_operation', true],
      ['gate.validate_operation', false],
    ]);
  });

  it('reads the limits, rules and status from the live policy', async () => {
    const limits = await service.scaleLimits();
    expect(limits.policyVersion).toBe(1);
    expect(limits.usage).toMatchObject({ concurrentWrites: 0, artifacts: 0, bytes: 0 });
    expect(Object.keys(limits.usage.products)).toContain('gurukul');
    const { document } = rig.policies.current();
    expect(service.operationRules().classes['user_progress']).toEqual({
      operations: document.classes['user_progress']?.operations,
      content: document.classes['user_progress']?.content,
      maxBytes: document.classes['user_progress']?.maxBytes,
      retention: document.classes['user_progress']?.retention,
    });
    expect(service.productRules().rejectedClasses).toContain('user_credentials');
    expect(await service.status()).toMatchObject({ status: 'active', approvedIntegrations: 1 });
  });
});
