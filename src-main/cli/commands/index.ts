import type { Command } from '../command.ts';
import { auditCommand } from './audit.ts';
import { backupCommand } from './backup.ts';
import { classifyCommand } from './classify.ts';
import { datasetCommand } from './dataset.ts';
import { doctorCommand } from './doctor.ts';
import { evaluateCommand } from './evaluate.ts';
import { explainCommand } from './explain.ts';
import { exportCommand } from './export.ts';
import { historyCommand } from './history.ts';
import { importCommand } from './import.ts';
import { modelsCommand } from './models.ts';
import { overrideCommand } from './override.ts';
import { summaryCommand } from './summary.ts';
import { trainCommand } from './train.ts';
import { lockTestCommand } from './lock-test.ts';
import { augmentPreviewCommand } from './augment-preview.ts';
import { retrainCommand } from './retrain.ts';
import { thresholdCommand } from './threshold.ts';

/** Every `cxr` sub-command, in the order `cxr --help` lists them. */
export const commands: Command[] = [
  classifyCommand, historyCommand, overrideCommand, exportCommand, auditCommand, backupCommand,
  doctorCommand, modelsCommand, trainCommand, augmentPreviewCommand, evaluateCommand, thresholdCommand, lockTestCommand, retrainCommand, datasetCommand,
  importCommand, summaryCommand,
  explainCommand,
];
