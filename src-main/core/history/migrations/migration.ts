import type { HistoryDb } from '../types.ts';

/** One schema step; `up` runs inside a transaction together with the user_version bump. */
export interface Migration {
  version: number;
  name: string;
  up: (db: HistoryDb) => void;
}
