import type { Command } from '../command.ts';
import { classifyCommand } from './classify.ts';
import { doctorCommand } from './doctor.ts';
import { evaluateCommand } from './evaluate.ts';
import { modelsCommand } from './models.ts';
import { trainCommand } from './train.ts';

/** Every `cxr` sub-command, in the order `cxr --help` lists them. */
export const commands: Command[] = [classifyCommand, doctorCommand, modelsCommand, trainCommand, evaluateCommand];
