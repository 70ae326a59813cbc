// Preload (sandboxed, CommonJS): exposes named functions from the contract, never raw ipcRenderer.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const events = ['classify:progress', 'classify:result', 'classify:failure', 'classify:done'] as const;

contextBridge.exposeInMainWorld('cxr', {
  engineInfo: () => ipcRenderer.invoke('engine:info', {}),
  listModels: () => ipcRenderer.invoke('models:list', {}),
  classify: (req: { paths: string[]; modelId?: string; threshold?: number; allowUnfamiliar?: boolean }) => ipcRenderer.invoke('classify:start', req),
  cancelClassify: (jobId: string) => ipcRenderer.invoke('classify:cancel', { jobId }),
  on: (name: (typeof events)[number], cb: (payload: unknown) => void) => {
    if (!events.includes(name)) throw new Error(`unknown event ${name}`);
    const listener = (_e: IpcRendererEvent, p: unknown) => cb(p);
    ipcRenderer.on(name, listener);
    return () => ipcRenderer.removeListener(name, listener);
  },
});
