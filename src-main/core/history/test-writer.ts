// Test helper, run as a child process by concurrency.test.ts:
//   node --import tsx src-main/core/history/test-writer.ts <db> <count> <chunk> [delayMs]
// Records <count> diagnoses in chunks of <chunk> into a new run, printing "chunk <n> <done>"
// after each committed chunk and "done <runId>" at the end.
import { createHash } from 'node:crypto';
import { finishRun, openHistoryDb, recordDiagnoses, startRun, upsertModel } from './index.ts';

const [file, countArg, chunkArg, delayArg, tag = 'w'] = process.argv.slice(2);
if (!file || !countArg || !chunkArg) {
  console.error('usage: test-writer.ts <db> <count> <chunk> [delayMs] [tag]');
  process.exit(1);
}
const count = Number(countArg);
const chunk = Number(chunkArg);
const delayMs = Number(delayArg ?? 0);

const db = openHistoryDb(file);
upsertModel(db, { id: 'test', version: '1.0.0', sha256: 'a'.repeat(64) });
const runId = startRun(db, { modelId: 'test', modelVersion: '1.0.0', threshold: 0.5, backend: 'cpu', total: count });
console.log(`run ${runId}`);
let done = 0;
for (let n = 0; done < count; n++) {
  const rows = [];
  for (let k = 0; k < chunk && done + k < count; k++) {
    const i = done + k;
    const sha256 = createHash('sha256').update(`${tag}-${runId}-${i}`).digest('hex');
    const probability = (i % 100) / 100;
    rows.push({ path: `/xr/${tag}/${i}.png`, sha256, probability, label: probability >= 0.5 ? 'PNEUMONIA' : 'NORMAL', threshold: 0.5, milliseconds: 3 + (i % 7) });
  }
  recordDiagnoses(db, runId, rows);
  done += rows.length;
  console.log(`chunk ${n} ${done}`);
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
}
finishRun(db, runId, { total: count, classified: done, failed: 0, skipped: 0 });
db.close();
console.log(`done ${runId}`);
