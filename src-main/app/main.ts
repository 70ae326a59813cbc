// Electron main process: a thin shell. All logic lives in src-main/core; IPC goes through ipc.ts.
import { app, BrowserWindow, session } from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { registerIpc } from './ipc.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererIndex = path.join(here, '..', '..', 'src-renderer', 'dist', 'index.html');
const appUrlPrefix = pathToFileURL(path.dirname(rendererIndex)).href;
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'CXR Workstation',
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (e, url) => {
    if (!url.startsWith(appUrlPrefix)) e.preventDefault();
  });
  void win.loadFile(rendererIndex);
}

void app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.webRequest.onBeforeRequest((details, cb) => {
    // No remote content: only our own files and devtools.
    cb({ cancel: !/^(file|devtools|data|blob):/.test(details.url) });
  });
  registerIpc(appUrlPrefix);
  createWindow();
});

app.on('window-all-closed', () => app.quit());
