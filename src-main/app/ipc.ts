// The one IPC door (as electron/fiddle's src/main/ipc.ts): every call in src-shared/contract.ts is
// handled here, payloads are validated with zod before they reach the core, and calls from
// unknown senders (any frame not loaded from our own bundle) are refused.
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { contractCalls, validateCall, type CallName, type EventName, type EventPayload } from '../../src-shared/contract.ts';
import { handlers } from './handlers.ts';

function trustedSender(e: IpcMainInvokeEvent, appUrlPrefix: string): boolean {
  const url = e.senderFrame?.url ?? '';
  return url.startsWith(appUrlPrefix);
}

/** Registers every contract call; returns a function that removes them. */
export function registerIpc(appUrlPrefix: string): () => void {
  const names = Object.keys(contractCalls) as CallName[];
  for (const name of names) {
    ipcMain.handle(name, async (e, payload: unknown) => {
      if (!trustedSender(e, appUrlPrefix)) throw new Error(`${name}: refused, unknown sender`);
      const req = validateCall(name, payload);
      return handlers[name](req as never, (ev, p) => send(e.sender, ev, p));
    });
  }
  return () => names.forEach((n) => ipcMain.removeHandler(n));
}

function send<N extends EventName>(wc: WebContents, name: N, payload: EventPayload<N>): void {
  if (!wc.isDestroyed()) wc.send(name, payload);
}
