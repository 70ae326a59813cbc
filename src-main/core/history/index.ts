/** The diagnosis history store: `import * as history from '…/core/history/index.ts'`. */
export type * from './types.ts';
export { CLINICIAN_LABELS } from './types.ts';
export {
  openHistoryDb, defaultHistoryPath, schemaVersion, HistorySchemaTooNewError, LATEST_SCHEMA_VERSION,
  type OpenHistoryOptions,
} from './open-db.ts';
export { upsertImage } from './images.ts';
export { upsertModel, promoteModel, modelStatuses, type ModelStatus } from './models.ts';
export { startRun, finishRun, getRun, listRuns, markInterruptedRuns, type MarkInterruptedOptions } from './runs.ts';
export { recordDiagnoses, findDiagnosedImages, latestDiagnoses, getDiagnosis, type DiagnosisRow, type PastDiagnosis } from './diagnoses.ts';
export { addOverride } from './overrides.ts';
export { addNote, listNotes, type NoteRow } from './notes.ts';
export { queryHistory, HISTORY_COLUMNS } from './query-history.ts';
export { exportHistory, exportColumns, IDENTIFYING_COLUMNS, type HistoryExport } from './export-history.ts';
export { auditHead, GENESIS_HASH } from './audit-log.ts';
export { verifyAuditChain, type VerifyOptions } from './verify-audit-chain.ts';
export { backupHistory, type BackupResult } from './backup-history.ts';
export { parseCsv } from './csv.ts';
