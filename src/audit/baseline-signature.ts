/**
 * A drift baseline's signature (SPEC §9): Ed25519 by the installation's audit signing key over the
 * baseline's RFC 8785 canonical bytes (domain/drift.ts `baselineBytes`), so that the verifier key
 * that checks checkpoints checks baselines too.
 */
import { verify } from 'node:crypto';
import { baselineBytes, type BaselineDocument, type DriftBaseline } from '../domain/drift.js';
import { verifierKeyObject, type NoteSigner, type NoteVerifier } from './note.js';

export function signBaseline(document: BaselineDocument, signer: NoteSigner): DriftBaseline {
  return { ...document, signature: signer.sign(baselineBytes(document)).toString('base64') };
}

/** Whether `baseline` carries a valid signature by `verifier`'s key. */
export function baselineSignatureValid(baseline: DriftBaseline, verifier: NoteVerifier): boolean {
  try {
    return verify(
      null,
      baselineBytes(baseline),
      verifierKeyObject(verifier),
      Buffer.from(baseline.signature, 'base64'),
    );
  } catch {
    return false;
  }
}
