/**
 * Who the key is. The public API has no "who am I" route, but every decision is an audit entry
 * (SPEC §6) that names its principal, and every key may read the entries about itself: the
 * console reads the mode (open to every key in every mode), then finds that request's own entry
 * by its `x-request-id`, among the entries after the latest checkpoint.
 */
import { api, call } from './api';
import type { PrincipalKind } from '../../src/domain/principal';

export interface Identity {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly product: string | null;
}

interface EntryPage {
  entries: { entry: { requestId: string; principal: Identity | null } }[];
  nextCursor: string | null;
}

const PAGES = 20;

export async function whoAmI(): Promise<Identity> {
  // Every entry after the latest checkpoint is newer than it: the search starts there, whatever
  // this computer's clock says.
  const { size } = await api<{ size: number }>('/v1/audit/checkpoint');
  const answer = await call('/v1/governance/mode');
  const requestId = answer.headers.get('x-request-id');
  if (!requestId) throw new Error('the Bucket sent no request id');
  let cursor: string | null = size > 0 ? String(size - 1) : null;
  for (let page = 0; page < PAGES; page++) {
    const params = new URLSearchParams({ limit: '1000' });
    if (cursor !== null) params.set('cursor', cursor);
    const found: EntryPage = await api<EntryPage>(`/v1/audit/entries?${params.toString()}`);
    const mine = found.entries.find((listed) => listed.entry.requestId === requestId);
    if (mine?.entry.principal) return mine.entry.principal;
    if (found.nextCursor === null) break;
    cursor = found.nextCursor;
  }
  throw new Error('the audit log does not show this key’s own request yet; try again');
}
