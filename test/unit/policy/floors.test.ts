/**
 * The floors (SPEC §9) against the shipped default: what each relaxation breaks, and what is not a
 * relaxation (lengthening, a stricter mode, the same period written another way).
 */
import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../../src/domain/policy.js';
import { loadDefaultPolicy } from '../../../src/policy/load.js';
import { floorBreaches } from '../../../src/policy/floors.js';

function edited(edit: (document: any) => void): PolicyDocument {
  const document = structuredClone(loadDefaultPolicy()) as any;
  edit(document);
  return document as PolicyDocument;
}

const floorsOf = (document: PolicyDocument) =>
  floorBreaches(document).map(({ floor, path }) => `${floor} ${path}`);

describe('floorBreaches', () => {
  it('finds none in the shipped default', () => {
    expect(floorBreaches(loadDefaultPolicy())).toEqual([]);
  });

  it('keeps every rejected class rejected', () => {
    const document = edited((d) => {
      d.rejectedClasses = d.rejectedClasses.filter((c: string) => c !== 'user_credentials');
    });
    expect(floorBreaches(document)).toEqual([
      {
        floor: 'rejected_classes',
        path: '/rejectedClasses',
        message: '"user_credentials" must stay rejected everywhere',
      },
    ]);
  });

  it('keeps model_checkpoint write-once and workflow_engine read-only', () => {
    const document = edited((d) => {
      d.classes.model_checkpoint.operations = ['CREATE', 'READ', 'UPDATE', 'DELETE'];
      d.products.workflow_engine.readOnly = false;
    });
    expect(floorsOf(document)).toEqual([
      'model_checkpoint_write_once /classes/model_checkpoint/operations',
      'model_checkpoint_write_once /classes/model_checkpoint/operations',
      'workflow_engine_read_only /products/workflow_engine/readOnly',
    ]);
  });

  it('never shortens a retention nor moves it off compliance', () => {
    const document = edited((d) => {
      d.classes.metadata.retention = { mode: 'none', period: null };
      d.classes.audit_entry.retention = { mode: 'compliance', period: 'P6Y' };
      d.classes.avatar_config.retention = { mode: 'compliance', period: 'P100Y' };
      d.classes.user_progress.retention = { mode: 'none', period: 'P1Y' };
      d.classes.monetization_marker.retention = { mode: 'governance', period: 'P7Y' };
      d.classes.audit_log.retention = { mode: 'governance', period: 'P2555D' };
    });
    expect(floorsOf(document)).toEqual([
      'class_retention /classes/metadata/retention/mode',
      'class_retention /classes/audit_entry/retention/period',
      'class_retention /classes/avatar_config/retention/period',
      'class_retention /classes/user_progress/retention/mode',
      'class_retention /classes/monetization_marker/retention/mode',
      // 2555 days are shorter than 7 years from a start with two leap days in them.
      'class_retention /classes/audit_log/retention/period',
    ]);
  });

  it('lets retention grow, get stricter, or be written another way', () => {
    const document = edited((d) => {
      d.classes.metadata.retention = { mode: 'compliance', period: 'P12M' };
      d.classes.audit_entry.retention = { mode: 'compliance', period: 'P10Y' };
      d.classes.user_progress.retention = { mode: 'compliance', period: null };
      d.classes.model_checkpoint.operations = ['CREATE', 'READ'];
    });
    expect(floorBreaches(document)).toEqual([]);
  });

  it('is not broken by a class or product the document leaves out', () => {
    const document = edited((d) => {
      delete d.classes.model_checkpoint;
      d.products.ai_avatar.allowedClasses = d.products.ai_avatar.allowedClasses.filter(
        (c: string) => c !== 'model_checkpoint',
      );
    });
    expect(floorBreaches(document)).toEqual([]);
  });
});
