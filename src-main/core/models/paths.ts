import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the app keeps per-user state: $CXR_HOME, else the platform's per-user data folder. */
export function cxrHome(): string {
  if (process.env.CXR_HOME) return path.resolve(process.env.CXR_HOME);
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'CXR Workstation');
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'CXR Workstation');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'cxr-workstation');
}

/** The user's model folder: --models-dir, else $CXR_HOME/models. */
export function userModelsDir(override?: string): string {
  return override ? path.resolve(override) : path.join(cxrHome(), 'models');
}

/** The models that ship with the app (`models/` in the source tree; CXR_SHIPPED_MODELS in a package). */
export function shippedModelsDir(): string {
  if (process.env.CXR_SHIPPED_MODELS) return path.resolve(process.env.CXR_SHIPPED_MODELS);
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models');
}

/** The repository root (source checkout), used to find ../shared/data. */
export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The real-data folder beside the checkout, or $CXR_DATA. */
export function sharedDataDir(): string {
  return process.env.CXR_DATA ? path.resolve(process.env.CXR_DATA) : path.resolve(repoRoot(), '..', 'shared', 'data');
}
