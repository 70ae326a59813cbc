/** The models table and the audited model promotions. */
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { appendAudit } from './audit-log.ts';
import { nowIso, osUser, prepare, requireText, writeTx } from './sql-util.ts';
import type { HistoryDb, ModelInput, PromotionInput, PromotionStatus } from './types.ts';

const PROMOTION_STATUSES: readonly PromotionStatus[] = ['active', 'candidate', 'retired'];

function toModelInput(m: ModelInput | ModelMetadata): ModelInput {
  if ('schemaVersion' in m && 'weightsSha256' in m) {
    return { id: m.id, version: m.version, sha256: m.weightsSha256, metadata: m };
  }
  return m as ModelInput;
}

/**
 * Records a model version (a ModelMetadata fits as is) and returns its row id.
 * The metadata JSON is refreshed; a different weights sha256 for a known id+version throws.
 */
export function upsertModel(db: HistoryDb, model: ModelInput | ModelMetadata): number {
  const m = toModelInput(model);
  const id = requireText(m.id, 'model id');
  const version = requireText(m.version, 'model version');
  const sha256 = m.sha256 ? String(m.sha256).toLowerCase() : null;
  const metadata = m.metadata === undefined ? null : JSON.stringify(m.metadata);
  return writeTx(db, () => {
    const existing = prepare<{ id: number; sha256: string | null }>(
      db,
      'SELECT id, sha256 FROM models WHERE model_id = ? AND version = ?',
    ).get(id, version);
    if (!existing) {
      return Number(
        prepare(db, 'INSERT INTO models (model_id, version, sha256, metadata_json, first_seen_at) VALUES (?, ?, ?, ?, ?)')
          .run(id, version, sha256, metadata, nowIso()).lastInsertRowid,
      );
    }
    if (existing.sha256 && sha256 && existing.sha256 !== sha256) {
      throw new Error(
        `model ${id}@${version} is already recorded with weights sha256 ${existing.sha256}, not ${sha256}; give changed weights a new version`,
      );
    }
    prepare(db, 'UPDATE models SET sha256 = coalesce(sha256, ?), metadata_json = coalesce(?, metadata_json) WHERE id = ?')
      .run(sha256, metadata, existing.id);
    return existing.id;
  });
}

/** Throws a clear error unless the model version is recorded. */
export function requireModel(db: HistoryDb, modelId: string, modelVersion: string): void {
  const found = prepare(db, 'SELECT 1 FROM models WHERE model_id = ? AND version = ?').get(modelId, modelVersion);
  if (!found) throw new Error(`model ${modelId}@${modelVersion} is not in the history; record it with upsertModel first`);
}

/**
 * Records (and audits) a status change of a model version. Making a version 'active'
 * also retires, audited too, any other active version of the same model id.
 * Returns the new promotion's id.
 */
export function promoteModel(db: HistoryDb, modelId: string, modelVersion: string, p: PromotionInput): number {
  if (!PROMOTION_STATUSES.includes(p.status)) {
    throw new Error(`promotion status must be one of ${PROMOTION_STATUSES.join(', ')}, got ${JSON.stringify(p.status)}`);
  }
  const reason = requireText(p.reason, `the reason for promoting ${modelId}@${modelVersion}`);
  const user = p.user ?? osUser();
  const at = p.at ?? nowIso();
  const insert = (version: string, status: PromotionStatus, why: string): number => {
    const id = Number(
      prepare(
        db,
        'INSERT INTO model_promotions (model_id, model_version, status, reason, user_name, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(modelId, version, status, why, user, at).lastInsertRowid,
    );
    appendAudit(db, 'model_promotion', id);
    return id;
  };
  return writeTx(db, () => {
    requireModel(db, modelId, modelVersion);
    if (p.status === 'active') {
      for (const s of modelStatuses(db)) {
        if (s.modelId === modelId && s.modelVersion !== modelVersion && s.status === 'active') {
          insert(s.modelVersion, 'retired', `superseded by ${modelId}@${modelVersion}`);
        }
      }
    }
    return insert(modelVersion, p.status, reason);
  });
}

export interface ModelStatus {
  modelId: string;
  modelVersion: string;
  status: PromotionStatus;
  since: string;
  reason: string;
  user: string;
}

/** The current status (latest promotion) of every model version that was ever promoted. */
export function modelStatuses(db: HistoryDb): ModelStatus[] {
  return prepare<ModelStatus>(
    db,
    `SELECT p.model_id AS modelId, p.model_version AS modelVersion, p.status, p.created_at AS since,
            p.reason, p.user_name AS user
       FROM model_promotions p
      WHERE p.id = (SELECT max(id) FROM model_promotions q
                     WHERE q.model_id = p.model_id AND q.model_version = p.model_version)
      ORDER BY p.model_id, p.model_version`,
  ).all();
}
