/** Stage 4 (operation) of the gate: src/gate/stages/operation.ts as a pure function. */
import { describe, expect, it } from 'vitest';
import { operationStage } from '../../../../src/gate/stages/operation.js';
import { gateContext, headVersion, principal, rules, threatIds } from '../../../helpers/gate.js';

describe('stage 4: operation', () => {
  const operate = (
    kind: 'product' | 'ai_agent' | 'core',
    product: string,
    classId: string,
    action: 'artifact.write' | 'artifact.delete' | 'artifact.read',
    head: ReturnType<typeof headVersion> | null,
    preconditions = { ifNoneMatch: false, ifVersion: null as number | null },
  ) =>
    operationStage(
      gateContext({
        principal: principal(kind, product),
        action,
        product,
        class: classId,
        name: 'item',
        preconditions,
        target: { head },
      }),
    );

  it('resolves a write to CREATE for a new name and UPDATE for an existing one', () => {
    expect(operate('product', 'ai_avatar', 'avatar_config', 'artifact.write', null)).toEqual({
      operation: 'CREATE',
    });
    const head = headVersion('ai_avatar', 'avatar_config', 'item');
    expect(operate('product', 'ai_avatar', 'avatar_config', 'artifact.write', head)).toEqual({
      operation: 'UPDATE',
    });
  });

  it('refuses an overwrite of a write-once class with 403 and T3', () => {
    const head = headVersion('ai_assistant', 'metadata', 'item');
    const verdict = operate('product', 'ai_assistant', 'metadata', 'artifact.write', head);
    expect(verdict.deny?.status).toBe(403);
    expect(rules(verdict)).toEqual(['operation_not_allowed']);
    expect(threatIds(verdict)).toEqual(['T3']);
  });

  it('refuses the replay of a write-once version (the same x-bucket-sha256) without T3', () => {
    const head = headVersion('ai_avatar', 'model_checkpoint', 'item', 4);
    const replay = (sha256Claim: string | null, target = head) =>
      operationStage(
        gateContext({
          principal: principal('product', 'ai_avatar'),
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'model_checkpoint',
          name: 'item',
          sha256Claim,
          target: { head: target },
        }),
      );
    const same = replay(head.sha256);
    expect(same.deny?.status).toBe(403);
    expect(same.deny?.code).toBe('forbidden');
    expect(rules(same)).toEqual(['write_once_unchanged']);
    expect(same.deny?.reasons[0]?.message).toContain('version 4 already holds this content');
    expect(threatIds(same)).toEqual([]);
    // Other content, no claim, or a deleted head: the overwrite the class forbids, with T3.
    for (const verdict of [
      replay('b'.repeat(64)),
      replay(null),
      replay(head.sha256, headVersion('ai_avatar', 'model_checkpoint', 'item', 4, true)),
    ]) {
      expect(rules(verdict)).toEqual(['operation_not_allowed']);
      expect(threatIds(verdict)).toEqual(['T3']);
    }
    // Where the class allows UPDATE, the same content is simply a new version.
    const config = headVersion('ai_avatar', 'avatar_config', 'item');
    expect(
      operationStage(
        gateContext({
          principal: principal('product', 'ai_avatar'),
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'avatar_config',
          name: 'item',
          sha256Claim: config.sha256,
          target: { head: config },
        }),
      ),
    ).toEqual({ operation: 'UPDATE' });
  });

  it('refuses DELETE where the class has no D, and allows it on basket_config', () => {
    const checkpoint = headVersion('ai_avatar', 'model_checkpoint', 'item');
    const refused = operate(
      'product',
      'ai_avatar',
      'model_checkpoint',
      'artifact.delete',
      checkpoint,
    );
    expect(refused.deny?.status).toBe(403);
    expect(threatIds(refused)).toEqual(['T3']);
    const basket = headVersion('core', 'basket_config', 'item');
    expect(operate('core', 'core', 'basket_config', 'artifact.delete', basket)).toEqual({
      operation: 'DELETE',
    });
  });

  it('holds ai_agent keys to CREATE and READ, even where the class allows UPDATE', () => {
    const head = headVersion('ai_avatar', 'avatar_config', 'item');
    expect(operate('ai_agent', 'ai_avatar', 'avatar_config', 'artifact.write', null).deny).toBe(
      undefined,
    );
    expect(operate('ai_agent', 'ai_avatar', 'avatar_config', 'artifact.read', head).deny).toBe(
      undefined,
    );
    const update = operate('ai_agent', 'ai_avatar', 'avatar_config', 'artifact.write', head);
    expect(update.deny?.status).toBe(403);
    expect(rules(update)).toEqual(['ai_write_only']);
    const basket = headVersion('core', 'basket_config', 'item');
    const remove = operate('ai_agent', 'core', 'basket_config', 'artifact.delete', basket);
    expect(remove.deny?.status).toBe(403);
    expect(rules(remove)).toEqual(['ai_write_only']);
  });

  it('refuses any write to the read-only workflow_engine product', () => {
    const verdict = operate('product', 'workflow_engine', 'event_history', 'artifact.write', null);
    expect(verdict.deny?.status).toBe(403);
    expect(rules(verdict)).toEqual(['product_read_only']);
    expect(operate('product', 'workflow_engine', 'event_history', 'artifact.read', null).deny).toBe(
      undefined,
    );
  });

  it('answers If-None-Match: * on an existing name with 412, but not on a tombstoned one', () => {
    const precondition = { ifNoneMatch: true, ifVersion: null };
    const live = headVersion('core', 'basket_config', 'item', 3);
    const exists = operate('core', 'core', 'basket_config', 'artifact.write', live, precondition);
    expect(exists.deny).toMatchObject({ status: 412, code: 'already_exists' });
    const fresh = operate('core', 'core', 'basket_config', 'artifact.write', null, precondition);
    expect(fresh.deny).toBeUndefined();
    const deleted = headVersion('core', 'basket_config', 'item', 4, true);
    const again = operate('core', 'core', 'basket_config', 'artifact.write', deleted, precondition);
    expect(again.deny).toBeUndefined();
  });

  it('answers x-bucket-if-version that is not the current version with 409', () => {
    const head = headVersion('core', 'agent_spec', 'item', 2);
    const stale = operate('core', 'core', 'agent_spec', 'artifact.write', head, {
      ifNoneMatch: false,
      ifVersion: 1,
    });
    expect(stale.deny).toMatchObject({ status: 409, code: 'version_conflict' });
    const current = operate('core', 'core', 'agent_spec', 'artifact.write', head, {
      ifNoneMatch: false,
      ifVersion: 2,
    });
    expect(current.deny).toBeUndefined();
    const absent = operate('core', 'core', 'agent_spec', 'artifact.write', null, {
      ifNoneMatch: false,
      ifVersion: 0,
    });
    expect(absent.deny).toBeUndefined();
    const expectedButAbsent = operate('core', 'core', 'agent_spec', 'artifact.write', null, {
      ifNoneMatch: false,
      ifVersion: 1,
    });
    expect(expectedButAbsent.deny?.status).toBe(409);
  });
});
